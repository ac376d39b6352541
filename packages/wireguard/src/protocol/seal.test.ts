// Sealing in place (header into the headroom, padding and tag into the tailroom) must give the
// very bytes of sealing into another batch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { SEAL_HEADROOM, SEAL_TAILROOM, sealInPlace, sealInto } from './seal.js';

describe('seal', () => {
  it('in place equals appended, for every length from 1 to the MTU and counters past 2^32', () => {
    const key = randomBytes(32);
    const nonce = Buffer.alloc(12);
    const mtu = 1420;
    for (let length = 1; length <= mtu; length += length < 64 ? 1 : 37) {
      for (const counter of [0, 1, 2 ** 32 + 5]) {
        const plaintext = randomBytes(length);
        const appended = new PacketBatch({ capacity: 1 });
        assert.ok(sealInto(appended, key, 0x01020304, counter, plaintext, mtu, nonce));
        const batch = new PacketBatch({ capacity: 2, headroom: SEAL_HEADROOM, tailroom: SEAL_TAILROOM });
        batch.push(plaintext);
        batch.push(Buffer.from([0xaa, 0xbb])); // the neighbour must survive
        const offset = batch.offsets[0] as number;
        const size = sealInPlace(batch.buffer, offset, length, key, 0x01020304, counter, mtu, nonce);
        const sealed = batch.buffer.subarray(offset - SEAL_HEADROOM, offset - SEAL_HEADROOM + size);
        assert.deepEqual(Buffer.from(sealed), Buffer.from(appended.packet(0)), `length ${length}, counter ${counter}`);
        assert.deepEqual([...batch.packet(1)], [0xaa, 0xbb]);
      }
    }
  });
});
