/**
 * Small seeded generators. Restarts and the simulator draw from streams derived from
 * (seed, names...), never from one shared sequence, so a result does not depend on the order
 * in which concepts or restarts are processed, nor on how many workers process them.
 */

/** 32-bit FNV-1a hash of a string, then mixed (murmur3 finaliser) for avalanche. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform [0, 1) generator: sfc32 (Doty-Humphrey), 128-bit state, passes PractRand. */
export type UniformRandom = () => number;

export function sfc32(a: number, b: number, c: number, d: number): UniformRandom {
  let s0 = a >>> 0;
  let s1 = b >>> 0;
  let s2 = c >>> 0;
  let s3 = d >>> 0;
  const next = () => {
    const t = (((s0 + s1) >>> 0) + s3) >>> 0;
    s3 = (s3 + 1) >>> 0;
    s0 = s1 ^ (s1 >>> 9);
    s1 = (s2 + (s2 << 3)) >>> 0;
    s2 = (s2 << 21) | (s2 >>> 11);
    s2 = (s2 + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** The stream for (seed, ...names): same arguments, same numbers, on any machine. */
export function seededRandom(seed: number, ...names: (string | number)[]): UniformRandom {
  const key = names.join('\u0000');
  return sfc32(hashString(key, seed >>> 0), hashString(key, (seed ^ 0x9e3779b9) >>> 0), seed >>> 0, hashString(`${seed}:${key}`));
}
