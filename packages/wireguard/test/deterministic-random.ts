// A reproducible random source for known-answer tests: BLAKE2s(seed || counter) blocks. Used by the
// fixture capture (so our ephemeral key and indices are known) and by the tests that replay it.
import { hash } from '../src/protocol/crypto.js';

export function deterministicRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  const seedBytes = new TextEncoder().encode(seed);
  return (n) => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n; at += 32) {
      const block = hash(seedBytes, Uint8Array.of(counter >> 24, counter >> 16, counter >> 8, counter));
      counter++;
      out.set(block.subarray(0, Math.min(32, n - at)), at);
    }
    return out;
  };
}
