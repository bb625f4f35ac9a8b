import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SQLITE_PAGE_SIZE } from '../../src/store/sqlite/sqlite-store.js';
import { openStore } from '../../src/store/open-store.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-sqlite-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pageSize = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('page_size', { simple: true });
  } finally {
    db.close();
  }
};

describe('SQLite file', () => {
  it('a new database gets 16 KB pages; an existing one keeps its own and still migrates and works', async () => {
    const fresh = join(dir, 'fresh.sqlite');
    const store = await openStore(fresh, { mode: 'migrate' });
    await store.migrate();
    await store.close();
    expect(SQLITE_PAGE_SIZE).toBe(16_384);
    expect(pageSize(fresh)).toBe(SQLITE_PAGE_SIZE);

    // An app's file made with SQLite's default 4 KB pages.
    const existing = join(dir, 'existing.sqlite');
    const app = new Database(existing);
    app.exec('CREATE TABLE app_notes (id INTEGER PRIMARY KEY, note TEXT)');
    app.close();
    const old = await openStore(existing, { mode: 'migrate' });
    await old.migrate();
    expect(await old.check()).toEqual([]);
    await old.close();
    expect(pageSize(existing)).toBe(4096);
  });
});
