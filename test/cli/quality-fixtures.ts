/** Shared set-up of the evaluate/validate/report CLI tests: temp dirs, pyBKT params files, a store. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BktParams } from '../../src/model/params.js';
import { createPostgresDatabase } from '../support/postgres.js';

export interface ReferenceFit {
  per_skill: { skill: string; prior: number; learn: number; guess: number; slip: number; forget: number }[];
  test_metrics: { rmse: number; auc: number; accuracy: number };
}

export const reference: { fits: Record<string, ReferenceFit> } = JSON.parse(
  gunzipSync(readFileSync('fixtures/reference/pybkt-builder.json.gz')).toString('utf8'),
);

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bkt-quality-'));
}

export function pybktParams(config: string): { concept_id: string; params: BktParams }[] {
  return reference.fits[config].per_skill.map((s) => ({
    concept_id: s.skill,
    params: { p_L0: s.prior, p_T: s.learn, p_S: s.slip, p_G: s.guess, p_F: s.forget },
  }));
}

/** A params file in the plain-array form `readParamsFile` accepts ({concept_id, p_L0, ...}). */
export function writePybktParamsFile(dir: string, config: string): string {
  const file = join(dir, `${config}.json`);
  writeFileSync(file, JSON.stringify(pybktParams(config).map((e) => ({ concept_id: e.concept_id, ...e.params }))));
  return file;
}

/** A params file of given entries in `bkt fit --out`'s JSON form (concepts with params and restarts). */
export function writeParamsFile(dir: string, name: string, concepts: { concept_id: string; params: BktParams; restarts?: unknown[] }[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({ format: 'bkt-params', version: 1, concepts: concepts.map((c) => ({ status: 'fitted', restarts: [], ...c })) }),
  );
  return file;
}

export { bkt } from '../support/run-bkt.js';

export { postgresAvailable } from '../support/postgres.js';

/** A fresh database of each backend: a SQLite temp file, or CREATE DATABASE bkt_test_<random> (dropped by `drop`). */
export async function createTestDb(backend: 'sqlite' | 'postgres', dir: string): Promise<{ db: string; drop: () => Promise<void> }> {
  if (backend === 'sqlite') return { db: join(dir, `store-${Math.random().toString(36).slice(2)}.sqlite`), drop: async () => {} };
  return createPostgresDatabase();
}
