import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { snapshotMemberConcepts } from '../../src/store/snapshot-concepts.js';
import { conceptsOfSnapshot } from '../../src/store/snapshot-concepts.js';

const C = '0a1b2c3d-0000-4000-8000-00000000000f';

describe('conceptsOfSnapshot', () => {
  it('reads concept_id, concept_ids, both, and lower-cases UUIDs', () => {
    expect([...conceptsOfSnapshot(`{"concept_id":"${C}"}`)]).toEqual([C]);
    expect([...conceptsOfSnapshot(`{"concept_id": "${C}"}`)]).toEqual([C]);
    expect([...conceptsOfSnapshot({ concept_id: C.toUpperCase(), concept_ids: [C, 'k2'] })]).toEqual([C, 'k2']);
    expect([...conceptsOfSnapshot('{"concept_ids": ["a", "b", "a"]}')]).toEqual(['a', 'b']);
  });

  it('names no concept for null, empty, non-object or unparsable snapshots', () => {
    for (const s of [null, undefined, '{}', '[]', '"x"', '{"concept_id": ""}', '{"concept_id": 7}', 'not json', '{"concept_ids": "a"}']) {
      expect(conceptsOfSnapshot(s).size, String(s)).toBe(0);
    }
  });

  it('gives the same answer for a snapshot as text and as parsed JSON (property)', () => {
    const id = fc.oneof(fc.uuid(), fc.string({ minLength: 0, maxLength: 40 }));
    fc.assert(
      fc.property(fc.record({ concept_id: fc.option(id), concept_ids: fc.option(fc.array(id, { maxLength: 4 })) }, { requiredKeys: [] }), fc.boolean(), (snap, spaced) => {
        // Arrange: the text as SQLite (compact) or PostgreSQL (spaced) returns it.
        const text = spaced
          ? `{${Object.entries(snap).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`
          : JSON.stringify(snap);
        // Act
        const parsed = [...conceptsOfSnapshot(snap)];
        // Assert: the text path (with its no-parse match of the one-concept text) agrees with the parsed one.
        expect([...conceptsOfSnapshot(text)]).toEqual(parsed);
      }),
    );
  });

  it('reads the members PostgreSQL extracts as the whole text would be read (property)', () => {
    const members = snapshotMemberConcepts('single', 'multi');
    const id = fc.oneof(fc.uuid(), fc.uuid().map((u) => u.toUpperCase()), fc.string({ minLength: 0, maxLength: 40 }));
    const value = fc.oneof(id, fc.integer(), fc.constant(null), fc.array(id, { maxLength: 4 }));
    fc.assert(
      fc.property(fc.record({ concept_id: value, concept_ids: value }, { requiredKeys: [] }), (snap) => {
        // Arrange: the two columns the dialect selects (concept_id when a string, concept_ids as JSON when an array).
        const row = [
          'before',
          typeof snap.concept_id === 'string' ? snap.concept_id : null,
          Array.isArray(snap.concept_ids) ? JSON.stringify(snap.concept_ids) : null,
        ];
        // Act
        const all = new Set<string>();
        members.all(row, 1, all);
        // Assert: the same concepts; and a cache key holds all that decides them (concept_id, and
        // concept_ids after a NUL when present), so rows of one key have the same concepts.
        expect([...all]).toEqual([...conceptsOfSnapshot(snap)]);
        const key = members.cacheKey(row, 1);
        if (key !== null) {
          const [single, list] = key.split('\u0000');
          const fromKey = new Set<string>();
          members.all([single === '' ? null : single, list ?? null], 0, fromKey);
          expect(fromKey).toEqual(all);
        }
      }),
    );
  });
});
