import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_COUNTER, REPLAY_WINDOW, ReplayWindow } from './replay.js';

describe('ReplayWindow', () => {
  it('accepts each counter once, refuses too old and too large', () => {
    const w = new ReplayWindow();
    assert.ok(w.accept(0));
    assert.ok(!w.accept(0));
    assert.ok(w.accept(5000));
    assert.ok(w.accept(5000 - REPLAY_WINDOW));
    assert.ok(!w.accept(5000 - REPLAY_WINDOW - 1));
    assert.ok(w.accept(4999));
    assert.ok(!w.accept(4999));
    assert.ok(!w.accept(MAX_COUNTER));
    assert.ok(!w.accept(-1));
    assert.ok(REPLAY_WINDOW >= 2048);
  });

  it('property: agrees with a set-based model for any sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 400 }), (counters) => {
        const w = new ReplayWindow();
        const seen = new Set<number>();
        let highest = -1;
        for (const c of counters) {
          const expected = !seen.has(c) && !(highest - c > REPLAY_WINDOW);
          assert.equal(w.accept(c), expected, `counter ${c} after highest ${highest}`);
          if (expected) {
            seen.add(c);
            highest = Math.max(highest, c);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
