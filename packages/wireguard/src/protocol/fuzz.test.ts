import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzEngine } from './fuzz.js';

describe('decoder fuzzing (smoke)', () => {
  it('10^4 random and mutated datagrams: none throws, each is dropped with a reason', () => {
    const result = fuzzEngine(10_000);
    // Zero-length inputs are skipped; everything else is dropped (a mutated message never authenticates).
    assert.ok(result.dropped >= 9_000, `only ${result.dropped} drops counted: ${JSON.stringify(result.reasons)}`);
    assert.ok((result.reasons.malformed ?? 0) > 0);
    assert.ok((result.reasons['bad-mac1'] ?? 0) > 0, JSON.stringify(result.reasons));
  });
});
