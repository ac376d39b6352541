// Both AEAD backends agree byte for byte, open what the other sealed, and refuse a flipped bit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { AeadJobs, loadNativeAead, nodeCryptoAead } from './aead-batch.js';
import { aeadSeal } from './crypto.js';

const native = loadNativeAead();

function sealedBy(backend: typeof nodeCryptoAead, plain: Uint8Array[], keys: Uint8Array[], counters: number[]) {
  const buffer = new Uint8Array(plain.reduce((n, p) => n + p.length + 16, 0));
  const jobs = new AeadJobs(plain.length);
  let at = 0;
  plain.forEach((p, i) => {
    buffer.set(p, at);
    jobs.add(keys[i] as Uint8Array, counters[i] as number, at, p.length);
    at += p.length + 16;
  });
  backend.seal(buffer, jobs);
  return { buffer, jobs };
}

describe('batch AEAD', () => {
  it('has the native backend built here (CI builds it)', () => {
    assert.ok(native, 'packages/wireguard/native was not built: run the package build');
    assert.match(native.name, /^native \(OpenSSL /);
  });

  it('native and node:crypto agree with the one-packet aeadSeal, for many sizes, keys and counters past 2^32', () => {
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    const plain = [0, 1, 15, 16, 17, 64, 1400, 1420, 65_000].map((n) => randomBytes(n));
    const keys = plain.map((_, i) => (i % 3 === 2 ? keyB : keyA));
    const counters = plain.map((_, i) => (i % 2 ? 2 ** 32 + i : i));
    const reference = sealedBy(nodeCryptoAead, plain, keys, counters).buffer;
    let at = 0;
    plain.forEach((p, i) => {
      const one = aeadSeal(keys[i] as Uint8Array, counters[i] as number, p, new Uint8Array(0));
      assert.deepEqual(Buffer.from(reference.subarray(at, at + one.length)), Buffer.from(one), `job ${i}`);
      at += one.length;
    });
    if (native) assert.deepEqual(Buffer.from(sealedBy(native, plain, keys, counters).buffer), Buffer.from(reference));
  });

  for (const [name, backend] of [
    ['node:crypto', nodeCryptoAead],
    ['native', native],
  ] as const) {
    it(`${name}: opens in place, and refuses a flipped ciphertext or tag bit`, (t) => {
      if (!backend) return t.skip('not built');
      const key = randomBytes(32);
      const plain = [randomBytes(100), randomBytes(1400), randomBytes(33)];
      const { buffer, jobs } = sealedBy(nodeCryptoAead, plain, [key, key, key], [7, 8, 9]);
      const flip = (at: number) => {
        buffer[at] = (buffer[at] as number) ^ 1;
      };
      flip((jobs.offsets[1] as number) + 5); // ciphertext of job 1
      flip((jobs.offsets[2] as number) + 33 + 3); // tag of job 2
      assert.equal(backend.open(buffer, jobs), 1);
      assert.deepEqual([...jobs.ok.subarray(0, 3)], [1, 0, 0]);
      assert.deepEqual(Buffer.from(buffer.subarray(0, 100)), Buffer.from(plain[0] as Uint8Array));
    });
  }

  it('refuses a job outside the buffer instead of touching memory', () => {
    if (!native) return;
    const jobs = new AeadJobs(1);
    jobs.add(randomBytes(32), 0, 10, 100);
    assert.throws(() => native.seal(new Uint8Array(50), jobs), /aead job 0 lies outside the buffer/);
  });
});
