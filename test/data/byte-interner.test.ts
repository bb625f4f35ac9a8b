import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteInterner, fnv1a } from '../../src/data/byte-interner.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

describe('ByteInterner', () => {
  it('gives each distinct byte string one id, decodes it once, and keeps caller values', () => {
    const interner = new ByteInterner();
    const buf = Buffer.from('abc,ab,abc,é1,abcdefgh,abcdefgx,', 'utf8');
    const ids: number[] = [];
    let start = 0;
    for (;;) {
      const comma = buf.indexOf(44, start);
      if (comma < 0) break;
      ids.push(interner.lookup(buf, start, comma, (key) => key.length));
      start = comma + 1;
    }
    expect(ids).toEqual([0, 1, 0, 2, 3, 4]);
    expect(interner.strings).toEqual(['abc', 'ab', 'é1', 'abcdefgh', 'abcdefgx']);
    expect(interner.value(2)).toBe(2); // 'é1' has two characters
    interner.setValue(2, 42);
    expect(interner.value(2)).toBe(42);
  });

  it('property: agrees with a Map over many keys (rehashing, long keys, shared prefixes)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.string({ minLength: 4, maxLength: 12 }), fc.nat(3000).map(String)), { maxLength: 600 }), (keys) => {
        // Arrange
        const interner = new ByteInterner();
        const expected = new Map<string, number>();
        // Act / Assert
        for (const key of keys) {
          const buf = Buffer.from(`#${key}#`, 'utf8');
          const id = interner.lookup(buf, 1, buf.length - 1, () => -1);
          if (!expected.has(key)) expected.set(key, expected.size);
          expect(id).toBe(expected.get(key));
        }
        expect(interner.strings).toEqual([...expected.keys()]);
      }),
    );
  });

  it('property: lookupHashed with the fnv1a hash gives the same ids as lookup', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 9 }), fc.nat(300).map((n) => `u${n}`)), { maxLength: 300 }), fc.array(fc.boolean()), (keys, hashed) => {
        // Arrange
        const plain = new ByteInterner();
        const mixed = new ByteInterner();
        // Act / Assert: the mixed interner takes each key by either entry point.
        keys.forEach((key, i) => {
          const buf = Buffer.from(`,${key},`, 'utf8');
          const end = buf.length - 1;
          const id = hashed[i % Math.max(1, hashed.length)]
            ? mixed.lookupHashed(buf, 1, end, fnv1a(buf, 1, end), () => -1)
            : mixed.lookup(buf, 1, end, () => -1);
          expect(id).toBe(plain.lookup(buf, 1, end, () => -1));
        });
        expect(mixed.strings).toEqual(plain.strings);
      }),
    );
  });
});
