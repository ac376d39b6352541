import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzEngine } from '../testing/fuzz.js';

describe('decoder fuzzing (smoke)', () => {
  it('10^4 random and mutated datagrams of all four types, under load and not: none throws, each is dropped with a reason', () => {
    const result = fuzzEngine(10_000);
    const why = JSON.stringify(result);
    // Unmutated replays are mostly dropped too (stale timestamp, replayed counter, used index);
    // a genuine cookie reply replayed unchanged, or flips in an initiation's MAC2 alone when not
    // under load, are handled instead (about 1 in 20 inputs).
    assert.ok(result.dropped >= 9_000, `only ${result.dropped} drops counted: ${why}`);
    for (const kind of ['initiation', 'response', 'cookie-reply', 'transport', 'other'] as const) {
      assert.ok(result.kinds[kind] >= 300, `${kind} exercised only ${result.kinds[kind]} times: ${why}`);
    }
    assert.ok(result.underLoad >= 6_000, why);
    // Each decoder reached past its framing: MAC1, the cookie path under load (including senders
    // whose address does not parse), the handshake, cookie replies, transport authentication.
    for (const reason of [
      'malformed',
      'bad-mac1',
      'needs-cookie',
      'bad-source',
      'stale-timestamp',
      'unknown-index',
      'bad-cookie-reply',
      'decrypt-failed',
      'replayed',
    ]) {
      assert.ok((result.reasons[reason] ?? 0) > 0, `never dropped as ${reason}: ${why}`);
    }
  });
});
