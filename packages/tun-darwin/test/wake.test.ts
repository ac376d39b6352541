// The fd-readiness loop's wake-up discipline, on the native device object itself: drain() that
// finds nothing arms the poll once; however many packets then arrive, JS is woken once, and one
// drain() takes them all (one N-API call per batch, never one per packet).

import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { sequencePacket } from '@tunkit/tun-core/testing';
import { native } from '../src/native.js';
import { DARWIN_AF_INET, frame, SocketPeer } from './socket-peer.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fd-readiness loop wake-ups', { timeout: 10_000 }, () => {
  it('one wake-up for a burst of packets, one drain for the batch, no wake-up while not armed', async () => {
    const { deviceFd, peer } = SocketPeer.open();
    let wakes = 0;
    const options = {
      mtu: 1420,
      framing: 'darwin',
      pendingPackets: 16,
      retryIntervalMs: 1,
      stallBudgetMs: 2000,
      duplicate: true,
    } as const;
    const device = new (native().FdDevice)(deviceFd, options, () => {
      wakes++;
    });
    closeSync(deviceFd);
    try {
      const batch = new PacketBatch({ capacity: 100 });
      const meta = new Uint32Array(6);
      const drain = () => {
        batch.clear();
        meta.set([batch.capacity, batch.byteCapacity, batch.headroom, batch.tailroom, 0, 0]);
        const n = device.drain(batch.buffer, batch.offsets, batch.lengths, meta);
        batch.length = meta[4] as number;
        batch.bytesUsed = meta[5] as number;
        return n;
      };
      assert.equal(drain(), 0, 'nothing there yet: the poll is now armed');
      // A burst (an AF_UNIX datagram queue holds 10 by default on Linux).
      for (let i = 0; i < 8; i++) await peer.write(frame(DARWIN_AF_INET, sequencePacket(i, 200)));
      await sleep(50);
      assert.equal(wakes, 1, 'one wake-up for the whole burst');
      assert.equal(drain(), 8, 'one drain takes the whole burst');
      assert.equal(batch.length, 8);
      // Not armed (the last drain returned packets): arrivals wake nobody until a drain finds nothing.
      await peer.write(frame(DARWIN_AF_INET, sequencePacket(8, 200)));
      await sleep(30);
      assert.equal(wakes, 1, 'no wake-up while nobody waits');
      assert.equal(drain(), 1);
      assert.equal(drain(), 0);
      await peer.write(frame(DARWIN_AF_INET, sequencePacket(9, 200)));
      await sleep(30);
      assert.equal(wakes, 2, 're-armed by the empty drain');
    } finally {
      device.close();
      device.close(); // idempotent
      await peer.close();
    }
  });
});
