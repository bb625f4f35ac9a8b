import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isUuid, uuidV7Factory } from '../../src/store/ids.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

/** The Unix milliseconds a v7 UUID carries (its first 48 bits). */
const msOf = (uuid: string) => Number.parseInt(uuid.replace(/-/g, '').slice(0, 12), 16);

describe('uuidV7Factory', () => {
  it('writes RFC 9562 version-7 UUIDs carrying the clock', () => {
    const at = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
    const next = uuidV7Factory(() => at);
    const id = next();
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]);
    expect(msOf(id)).toBe(at);
  });

  it('is strictly increasing in text order, also within a millisecond and across a counter overflow (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 50 }), fc.integer({ min: 1, max: 9000 }), (steps, burst) => {
        // Arrange: a clock that stands still for `burst` ids (more than the 4,096 a counter holds), then moves by the drawn steps (0 = stands still).
        let ms = Date.UTC(2030, 0, 1);
        let calls = 0;
        const clock = () => (calls++ < burst ? ms : (ms += steps[calls % steps.length]));
        const next = uuidV7Factory(clock);
        // Act
        const ids = Array.from({ length: burst + 200 }, next);
        // Assert
        for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1], `${ids[i - 1]} then ${ids[i]}`).toBe(true);
        expect(ids.every(isUuid)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('never runs behind a clock that goes back', () => {
    const times = [1000, 999, 998, 1001];
    const next = uuidV7Factory(() => times.shift()!);
    const ids = [next(), next(), next(), next()];
    expect([...ids].sort()).toEqual(ids);
    expect(ids.map(msOf)).toEqual([1000, 1000, 1000, 1001]);
  });
});
