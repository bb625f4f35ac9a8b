import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WordKeyInterner } from '../../src/data/word-key-interner.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

describe('WordKeyInterner', () => {
  it('returns the decoded key, the same string for equal bytes wherever they lie (property)', () => {
    // Keys that differ in one byte, in their length, or only past their last whole word.
    const key = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 41 }),
      fc.uuid(),
      fc.integer({ min: 0, max: 999 }).map((n) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`),
      fc.constantFrom('', 'a', 'ab', 'abc', 'abcd', 'abcde', 'ü', 'ключ'),
    );
    fc.assert(
      fc.property(fc.array(key, { maxLength: 600 }), fc.integer({ min: 0, max: 7 }), (keys, offset) => {
        // Arrange: the keys back to back in one buffer, behind `offset` bytes (unaligned words).
        const parts = keys.map((k) => Buffer.from(k, 'utf8'));
        const buf = Buffer.concat([Buffer.alloc(offset, 0x7f), ...parts]);
        const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
        const interner = new WordKeyInterner();
        const first = new Map<string, string>();
        let at = offset;
        for (const [i, part] of parts.entries()) {
          // Act
          const got = interner.lookup(view, buf, at, at + part.length);
          at += part.length;
          // Assert: the key's text
          const text = part.toString('utf8');
          expect(got, `key ${i}`).toBe(text);
          first.set(text, got);
        }
        // ... and each distinct key stored once (an equal key found, not added again).
        expect(interner.size).toBe(first.size);
      }),
    );
  });
});
