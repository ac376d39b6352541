// receiveBatch with the datagram batch as its Tun output (as the Device calls it) opens in place:
// the batch ends up holding just the inner packets, in order, whatever else the datagrams were.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { readSequence } from '@tunkit/tun-core/testing';
import type { Endpoint } from '../bind/bind.js';
import { ENDPOINT_A, enginePair } from '../testing/engine-pair.js';

const sequences = (batch: PacketBatch) => [...batch].map(readSequence);
const types = (batch: PacketBatch) => [...batch].map((d) => d[0]);

/** One batch of the datagrams of `batches`, in order, with room after each (like a Bind's). */
function joined(...batches: PacketBatch[]): PacketBatch {
  const datagrams = new PacketBatch({ capacity: 16 });
  for (const batch of batches) for (const datagram of batch) datagrams.push(datagram);
  return datagrams;
}

describe('Engine.receiveBatch in place', () => {
  it('leaves just the inner packets in the datagram batch, skipping what was dropped or answered', () => {
    const { a, b, send, handshake, advance } = enginePair();
    handshake();
    const early = send(a, [1, 2]);
    const garbage = new PacketBatch({ capacity: 1 });
    garbage.push(Uint8Array.of(4, 0, 0, 0, 9)); // a transport type byte, far too short
    advance(121_000);
    const dataThenInitiation = send(a, [3]); // a rekeys: data on the old keypair, then an initiation
    assert.deepEqual(types(dataThenInitiation), [4, 1]);
    const late = send(a, [4]);
    const datagrams = joined(early, garbage, dataThenInitiation, late);
    const replay = datagrams.packet(0).slice();
    datagrams.push(replay);
    const from: Endpoint[] = new Array(datagrams.length).fill(ENDPOINT_A);
    const replies = new PacketBatch({ capacity: 4 });
    b.receiveBatch(datagrams, from, datagrams, replies, []);
    assert.deepEqual(sequences(datagrams), [1, 2, 3, 4]);
    assert.equal(replies.length, 0, 'the initiation in the middle waits in the handshake queue');
    assert.equal(b.handshakesQueued, 1);
    b.processHandshakes(replies, []);
    assert.deepEqual(types(replies), [2], 'the initiation is answered by processHandshakes');
    assert.equal(b.drops.malformed, 1);
    assert.equal(b.drops.replayed, 1);
  });

  it('gives the very packets that opening into another batch gives', () => {
    const { a, b, send, handshake } = enginePair();
    handshake();
    const sizes = [20, 100, 1371, 1420, 60];
    const seal = () => joined(...sizes.map((size, i) => send(a, [i + 1], size)));
    const from: Endpoint[] = new Array(sizes.length).fill(ENDPOINT_A);
    const tun = new PacketBatch({ capacity: 16 });
    b.receiveBatch(seal(), from, tun, new PacketBatch(), []);
    const datagrams = seal(); // the same packets again, on the next counters
    b.receiveBatch(datagrams, from, datagrams, new PacketBatch(), []);
    assert.equal(tun.length, sizes.length);
    assert.deepEqual(
      [...datagrams].map((p) => Buffer.from(p)),
      [...tun].map((p) => Buffer.from(p)),
    );
  });
});
