// The per-packet paths make no views of their own: routing, opening and checks read the batch's
// buffer by offset. Counted by wrapping Uint8Array.prototype.subarray for the duration of one
// call (the AEAD backends work on the whole buffer with offset tables, so they make none either).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { sequencePacket } from '@tunkit/tun-core/testing';
import { ENDPOINT_A as A, enginePair as setup } from '../testing/engine-pair.js';
import { SEAL_HEADROOM, SEAL_TAILROOM } from './seal.js';

function countViews(run: () => void): number {
  const original = Uint8Array.prototype.subarray;
  let views = 0;
  Uint8Array.prototype.subarray = function (this: Uint8Array, start?: number, end?: number) {
    views++;
    return original.call(this, start, end);
  };
  try {
    run();
  } finally {
    Uint8Array.prototype.subarray = original;
  }
  return views;
}

describe('Engine hot paths', () => {
  it('sealing a batch in place and receiving a transport batch make no view per packet', () => {
    const { a, b, send, handshake } = setup();
    handshake();
    const count = 50;
    const packets = new PacketBatch({ capacity: count, headroom: SEAL_HEADROOM, tailroom: SEAL_TAILROOM });
    for (let i = 0; i < count; i++) packets.push(sequencePacket(i, 100, [10, 9, 0, 1], [10, 9, 0, 2]));
    const sealViews = countViews(() => a.sealBatch(packets, [], new PacketBatch({ capacity: 4 }), []));
    assert.equal(packets.length, count);
    assert.equal(sealViews, 0);

    const datagrams = send(
      a,
      Array.from({ length: count }, (_, i) => i),
    );
    const tun = new PacketBatch({ capacity: count });
    const from = new Array(count).fill(A);
    const receiveViews = countViews(() => b.receiveBatch(datagrams, from, tun, new PacketBatch({ capacity: 4 }), []));
    assert.equal(tun.length, count);
    // One per delivered packet remains: PacketBatch.reserve (tun-core) returns a view to copy into.
    assert.ok(receiveViews <= count, `${receiveViews} views for ${count} packets`);
  });
});
