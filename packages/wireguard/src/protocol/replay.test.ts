import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_COUNTER, REPLAY_WINDOW, ReplayWindow } from './replay.js';

describe('ReplayWindow', () => {
  it('accepts each counter once, refuses too old and too large', () => {
    const w = new ReplayWindow();
    assert.ok(w.accept(0));
    assert.ok(!w.accept(0));
    assert.ok(w.accept(10_000));
    assert.ok(w.accept(10_000 - REPLAY_WINDOW));
    assert.ok(!w.accept(10_000 - REPLAY_WINDOW - 1));
    assert.ok(w.accept(9999));
    assert.ok(!w.accept(9999));
    assert.ok(!w.accept(MAX_COUNTER));
    assert.ok(!w.accept(-1));
  });

  it('is 8,128 counters wide, as wireguard-go and the kernel: the edges, from 0 and after moving', () => {
    assert.equal(REPLAY_WINDOW, 8128);
    const fromZero = new ReplayWindow();
    assert.ok(fromZero.accept(REPLAY_WINDOW)); // counter 0 is now exactly at the edge
    assert.ok(fromZero.accept(0), '0 is still inside');
    const moved = new ReplayWindow();
    assert.ok(moved.accept(REPLAY_WINDOW + 1));
    assert.ok(!moved.accept(0), '0 fell out one step later');
    assert.ok(moved.accept(1));
    // Every counter of a full window, out of order, once each; then none of them again.
    const w = new ReplayWindow();
    const top = 100_000;
    assert.ok(w.accept(top));
    for (let c = top - 1; c >= top - REPLAY_WINDOW; c--) assert.ok(w.accept(c), `counter ${c}`);
    for (let c = top; c >= top - REPLAY_WINDOW; c--) assert.ok(!w.accept(c), `counter ${c} again`);
    assert.ok(!w.accept(top - REPLAY_WINDOW - 1));
    // A jump of more than the ring forgets everything old; the words it reuses start clean.
    assert.ok(w.accept(top + 3 * REPLAY_WINDOW));
    assert.ok(w.accept(top + 2 * REPLAY_WINDOW + 1));
    assert.ok(!w.accept(top + 2 * REPLAY_WINDOW - 1));
  });

  it('property: agrees with a set-based model for any sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 400 }), (counters) => {
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
