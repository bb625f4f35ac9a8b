/**
 * docs/service.md's endpoint table against the OpenAPI document the service serves: the same
 * routes, and for each route the same request fields (query, path and body), so the reference
 * cannot drift from the schemas.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service/server.js';
import { createSqliteDb, type TestDb } from '../mastery/backends.js';
import { PREFIX, call, startTestService } from './support.js';

interface DocRow {
  method: string;
  path: string;
  fields: string[];
}

function documentedEndpoints(): DocRow[] {
  const text = readFileSync('docs/service.md', 'utf8');
  const start = text.indexOf('| method | path | access | request fields |');
  expect(start).toBeGreaterThan(0);
  const rows = text.slice(start).split('\n').slice(2);
  const out: DocRow[] = [];
  for (const row of rows) {
    if (!row.startsWith('|')) break;
    const [method, path, , fields] = row.split('|').slice(1, -1).map((c) => c.trim());
    const bare = path.replace(/`/g, '');
    out.push({ method, path: bare === '/healthz' || bare === '/readyz' ? bare : PREFIX + bare, fields: [...fields.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]).sort() });
  }
  return out;
}

describe('docs/service.md endpoint reference', () => {
  let testDb: TestDb;
  let service: Service;
  let doc: any;
  beforeAll(async () => {
    testDb = await createSqliteDb();
    service = await startTestService(testDb.db);
    doc = (await call(service.url, 'GET', '/openapi.json')).body;
  });
  afterAll(async () => {
    await service?.close();
    await testDb?.drop();
  });

  function servedFields(operation: any): string[] {
    const names = (operation.parameters ?? []).map((p: { name: string }) => p.name);
    let schema = operation.requestBody?.content?.['application/json']?.schema;
    if (schema?.allOf?.length === 1) schema = schema.allOf[0];
    if (schema?.$ref) schema = doc.components.schemas[schema.$ref.split('/').pop()];
    return [...names, ...Object.keys(schema?.properties ?? {})].sort();
  }

  it('lists exactly the served routes, each with the request fields of its schema', () => {
    const served = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, fields: servedFields(op) })),
    );
    const key = (r: DocRow) => `${r.method} ${r.path}`;
    expect(documentedEndpoints().map(key).sort()).toEqual(served.map(key).sort());
    for (const row of documentedEndpoints()) {
      const op = served.find((s) => key(s) === key(row))!;
      expect(row.fields, key(row)).toEqual(op.fields);
    }
  });
});
