import fc from 'fast-check';

// Failures reproduce: .ci/run sets FC_SEED, and a failing property prints the seed to rerun with.
if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });
