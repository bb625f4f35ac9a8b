import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { CopyOutFramer } from '../../src/store/postgres/copy-out.js';
import type { SqlDriver } from '../../src/store/sql.js';
import { openStore } from '../../src/store/open-store.js';
import { type Store } from '../../src/store/store.js';
import { driverOf } from './backends.js';
import { createPostgresDatabase, postgresAvailable } from '../support/postgres.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

/** A backend message: type byte, int32 length (counting itself), body (protocol docs, "Message Formats"). */
function message(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const notice = message('N', Buffer.from('SNOTICE\0Mhello\0\0'));
const parameterStatus = message('S', Buffer.from('TimeZone\0UTC\0'));
const afterCopy = Buffer.concat([message('C', Buffer.from('COPY 3\0')), message('Z', Buffer.from('I'))]);

/** Feed `bytes` to a framer in chunks of the given sizes; the data it passed on and what it returned. */
function run(bytes: Buffer, cuts: number[]) {
  const data: Buffer[] = [];
  const framer = new CopyOutFramer({
    span: (buf, start, end) => data.push(Buffer.from(buf.subarray(start, end))) && 0,
  });
  let rest: Buffer | null = null;
  let at = 0;
  let calls = 0;
  for (let i = 0; at < bytes.length && rest === null; i++) {
    const size = i < cuts.length ? cuts[i] : bytes.length;
    rest = framer.push(bytes.subarray(at, at + size));
    at += size;
    calls++;
  }
  const returned = rest === null ? null : Buffer.concat([rest, bytes.subarray(Math.min(at, bytes.length))]);
  return { data: Buffer.concat(data), returned, done: framer.done, calls };
}

describe('CopyOutFramer', () => {
  it('passes on exactly the CopyData payloads, skips what PostgreSQL intersperses, returns what follows CopyDone (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.constantFrom('none', 'notice', 'status')), { maxLength: 25 }),
        fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }),
        (payloads, cuts) => {
          // Arrange: CopyOutResponse, the CopyData messages (some followed by a notice or a
          // parameter status), CopyDone, then the ordinary messages after the COPY.
          const parts = [message('H', Buffer.from([1, 0, 0]))];
          for (const [payload, extra] of payloads) {
            parts.push(message('d', payload));
            if (extra === 'notice') parts.push(notice);
            if (extra === 'status') parts.push(parameterStatus);
          }
          parts.push(message('c', new Uint8Array()), afterCopy);
          // Act
          const { data, returned, done } = run(Buffer.concat(parts), cuts);
          // Assert
          expect(data).toEqual(Buffer.concat(payloads.map(([p]) => Buffer.from(p))));
          expect(returned).toEqual(afterCopy);
          expect(done).toBe(true);
        },
      ),
    );
  });

  it('hands an ErrorResponse back from its first byte, even when its header was cut', () => {
    const error = message('E', Buffer.from('SERROR\0C22012\0Mdivision by zero\0\0'));
    const bytes = Buffer.concat([message('H', Buffer.from([1, 0, 0])), message('d', Buffer.from('abc')), error, message('Z', Buffer.from('E'))]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const { data, returned } = run(bytes, [cut]);
      expect(data.toString(), `cut at ${cut}`).toBe('abc');
      expect(returned, `cut at ${cut}`).toEqual(bytes.subarray(bytes.indexOf(error)));
    }
  });

  it('returns null while the COPY runs and refuses bytes after its end', () => {
    const framer = new CopyOutFramer({ span: () => 0 });
    const data = message('d', Buffer.from('x'));
    expect(framer.push(data.subarray(0, 3))).toBeNull();
    expect(framer.done).toBe(false);
    expect(framer.push(Buffer.concat([data.subarray(3), message('c', new Uint8Array())]))).toEqual(Buffer.alloc(0));
    expect(framer.done).toBe(true);
    expect(() => framer.push(Buffer.from('Z'))).toThrow(/after it ended/);
  });
});

describe('PostgreSQL streamRows over the socket (CopyOutQuery)', async () => {
  const pgOk = await postgresAvailable();
  let target: { db: string; drop: () => Promise<void> };
  let store: Store;
  let driver: SqlDriver;
  beforeAll(async () => {
    if (!pgOk) return;
    target = await createPostgresDatabase();
    store = await openStore(target.db, { mode: 'migrate' });
    driver = driverOf(store);
  });
  afterAll(async () => {
    if (!pgOk) return;
    await store.close();
    await target.drop();
  });

  it.skipIf(!pgOk)('reads every row in both formats, then the connection serves the next query', async () => {
    const binarySql = "SELECT k::int4, ('tab' || chr(9) || 'here' || k)::text, NULL::text FROM generate_series(1, 20000) k WHERE k % ? = 0";
    const textSql = "SELECT k, 'tab' || chr(9) || 'here' || k, NULL FROM generate_series(1, 20000) k WHERE k % ? = 0";
    const binary: unknown[][] = [];
    for await (const _ of driver.streamRows(binarySql, [3], { binaryTypes: ['int4', 'text', 'text'] }, (row) => binary.push([...row])));
    const text: unknown[][] = [];
    for await (const _ of driver.streamRows(textSql, [3], { joinMemory: '8MB' }, (row) => text.push([...row])));
    expect(binary.length).toBe(6666);
    expect(binary[0]).toEqual([3, 'tab\there3', null]);
    expect(text.map(([k, label, none]) => [Number(k), label, none])).toEqual(binary);
    expect(await driver.queryArrays('SELECT 41 + 1')).toEqual([[42]]);
  });

  it.skipIf(!pgOk)('an error in the middle of the COPY is a StorageError and leaves the pool working', async () => {
    let rows = 0;
    const read = async () => {
      for await (const _ of driver.streamRows('SELECT (1 / (30000 - k))::int4 FROM generate_series(1, 40000) k', [], { binaryTypes: ['int4'] }, () => rows++));
    };
    await expect(read()).rejects.toThrow(StorageError);
    await expect(read()).rejects.toThrow(/division by zero/);
    expect(rows).toBeGreaterThan(0);
    expect(await driver.queryArrays('SELECT 7')).toEqual([[7]]);
  });

  it.skipIf(!pgOk)('a loop left early and a row callback that throws stop the read; the store still answers', async () => {
    const sql = 'SELECT k::int4 FROM generate_series(1, 300000) k';
    let seen = 0;
    for await (const _ of driver.streamRows(sql, [], { binaryTypes: ['int4'] }, () => seen++)) break;
    expect(seen).toBeGreaterThan(0);
    const failing = async () => {
      for await (const _ of driver.streamRows(sql, [], { binaryTypes: ['int4'] }, (row) => {
        if (row[0] === 5000) throw new Error('stop at 5000');
      }));
    };
    await expect(failing()).rejects.toThrow(/stop at 5000/);
    expect(await driver.queryArrays('SELECT count(*)::int4 FROM generate_series(1, 10)')).toEqual([[10]]);
  });
});
