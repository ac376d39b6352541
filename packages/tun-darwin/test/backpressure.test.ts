// Write backpressure of the fd-readiness loop over a socketpair whose reader stops: the kernel
// refuses with EAGAIN, refused packets wait in order in the small pending queue, `send` returns
// false once that is full, `sendReady` resolves after the reader resumes, and nothing accepted is
// lost within the stall budget; past the budget the held packets are dropped and counted.

import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { readSequence, sequencePacket } from '@tunkit/tun-core/testing';
import { type DarwinFromFdOptions, type DarwinTun, fromFd } from '../src/index.js';
import { native } from '../src/native.js';
import { DARWIN_AF_INET, SocketPeer } from './socket-peer.js';

const open: { tun: DarwinTun; peer: SocketPeer }[] = [];

function openStalled(options: DarwinFromFdOptions): { tun: DarwinTun; peer: SocketPeer } {
  const { deviceFd, peer } = SocketPeer.open();
  // A small send buffer: a stopped reader backs the device up after a few packets.
  native().setSendBuffer(deviceFd, 4096);
  const tun = fromFd(deviceFd, { name: 'utun-bp', mtu: 1420, ...options });
  closeSync(deviceFd);
  open.push({ tun, peer });
  return { tun, peer };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sequence numbers of the IPv4 frames the peer read, checking each header. */
function sequences(frames: Uint8Array[]): number[] {
  return frames.map((f) => {
    assert.equal(new DataView(f.buffer, f.byteOffset).getUint32(0), DARWIN_AF_INET);
    const seq = readSequence(f.subarray(4));
    assert.notEqual(seq, undefined);
    return seq as number;
  });
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('DarwinTun write backpressure over a socketpair', { timeout: 15_000 }, () => {
  afterEach(async () => {
    for (const { tun, peer } of open.splice(0)) {
      await tun.close();
      await peer.close();
    }
  });

  it('send returns false when the reader stops, sendReady resolves after it resumes, order kept, nothing lost', async () => {
    const { tun, peer } = openStalled({ pendingPackets: 16 });
    let accepted = 0;
    while (tun.send(sequencePacket(accepted, 1000))) {
      accepted++;
      assert.ok(accepted < 10_000, 'send never refused');
    }
    const held = tun.stats();
    assert.ok(held.txDeferred >= 16, `the kernel refused and the queue held packets (txDeferred ${held.txDeferred})`);
    assert.equal(held.txRefused, 1);
    assert.equal(held.txPackets + 16, accepted, 'written directly + held = accepted');

    let ready = false;
    const readyPromise = tun.sendReady().then(() => {
      ready = true;
    });
    await sleep(50);
    assert.equal(ready, false, 'sendReady resolved while the reader was stopped');

    peer.startReading();
    // The reader has emptied the kernel queue before the loop flushed: a send now must queue
    // behind the held packets (or be refused), never overtake them.
    if (tun.send(sequencePacket(accepted, 1000))) accepted++;
    await readyPromise;
    // Keep producing after the stall, through sendReady.
    const total = accepted + 200;
    for (let seq = accepted; seq < total; seq++) {
      while (!tun.send(sequencePacket(seq, 1000))) await tun.sendReady();
    }
    await peer.waitForFrames(total);
    assert.deepEqual(sequences(peer.frames), range(0, total), 'every packet, in order, once');
    const stats = tun.stats();
    assert.equal(stats.txPackets, total);
    assert.equal(stats.txDropped, 0);
  });

  it('sendMany stops at the first refusal and resumes in order after sendReady', async () => {
    const { tun, peer } = openStalled({ pendingPackets: 8 });
    const { PacketBatch } = await import('@tunkit/tun-core');
    const batch = new PacketBatch({ capacity: 100 });
    for (let i = 0; i < 100; i++) batch.push(sequencePacket(i, 500));
    let start = tun.sendMany(batch);
    assert.ok(start > 0 && start < 100, `took ${start} of 100 with the reader stopped`);
    peer.startReading();
    while (start < batch.length) {
      await tun.sendReady();
      start += tun.sendMany(batch, start);
    }
    await peer.waitForFrames(100);
    assert.deepEqual(sequences(peer.frames), range(0, 100));
  });

  it('past the stall budget the held packets are dropped, counted, and senders are woken', async () => {
    const { tun, peer } = openStalled({ pendingPackets: 8, stallBudgetMs: 60, retryIntervalMs: 2 });
    let accepted = 0;
    while (tun.send(sequencePacket(accepted, 1000))) accepted++;
    const written = tun.stats().txPackets;
    const started = Date.now();
    await tun.sendReady(); // resolves because the budget ran out, not because the reader came back
    const waited = Date.now() - started;
    assert.ok(waited >= 40, `sendReady resolved after ${waited} ms, before the budget`);
    const stats = tun.stats();
    assert.equal(stats.txDropped, 8, 'the 8 held packets were dropped and counted');
    assert.equal(stats.txPackets, written);
    assert.equal(stats.txPackets + stats.txDropped, accepted);
    // The reader comes back: it sees exactly the packets written before the stall, in order.
    peer.startReading();
    await peer.waitForFrames(written);
    await sleep(30);
    assert.deepEqual(sequences(peer.frames), range(0, written));
    // And the device works again.
    assert.ok(tun.send(sequencePacket(1_000, 100)));
    await peer.waitForFrames(written + 1);
    assert.deepEqual(sequences(peer.frames).at(-1), 1_000);
  });

  it('close discards and counts held packets and closes its duplicate of the fd', async () => {
    const { tun, peer } = openStalled({ pendingPackets: 8 });
    while (tun.send(sequencePacket(0, 1000))) {}
    await tun.close();
    assert.equal(tun.stats().txDropped, 8);
    // With the device's fd closed, the peer's writes are refused: nobody is connected any more.
    await assert.rejects(
      peer.write(new Uint8Array([0, 0, 0, 2, 0x45])),
      (e: { code?: string }) => e.code === 'ECONNREFUSED',
    );
  });
});
