// The send path over the fake WinTun: a full send ring (ERROR_BUFFER_OVERFLOW) moves packets into
// the bounded pending queue, `send` returns false once that is full, sendReady resolves when the
// ring drains and nothing accepted is lost or reordered; a ring that stays full past the retry
// budget drops what waits, counted in txDropped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sequencePacket, waitUntil } from '@tunkit/tun-core/testing';
import { fakeWintun } from '../../src/native.js';
import { drainSent, openFake } from './fake-harness.js';

describe('WinTun send path (fake WinTun)', () => {
  it('overflow → pending queue → send false → sendReady after the ring drains → everything in order', async () => {
    // 128 KiB ring, 1000-byte packets: 130 fit (1004 bytes each in the ring), then overflow.
    const tun = await openFake({ ringCapacity: 128 * 1024, pendingSlots: 16, sendRetryMs: 1000 });
    const side = drainSent(tun.name);
    side.draining = false;
    try {
      let accepted = 0;
      while (tun.send(sequencePacket(accepted, 1000))) accepted++;
      assert.equal(
        accepted,
        Math.floor(131072 / 1004) + 16,
        `accepted ${accepted}: the ring (130 packets of 1004 bytes) plus the 16 pending slots`,
      );
      const stats = tun.stats();
      assert.ok(stats.txOverflows >= 1);
      assert.equal(stats.txQueued, 16);
      assert.equal(stats.txPending, 16);
      assert.equal(stats.txRefused, 1);
      assert.equal(fakeWintun().state(tun.name).sendRingPackets, accepted - 16);
      let ready = false;
      const readyPromise = tun.sendReady().then(() => {
        ready = true;
      });
      await sleep(30);
      assert.equal(ready, false, 'sendReady resolved while the ring and the queue were full');
      side.draining = true; // the Windows stack reads again
      await readyPromise;
      assert.ok(tun.send(sequencePacket(accepted, 1000)), 'send refused right after sendReady');
      accepted++;
      await waitUntil('all packets at the other side', () => side.received.length >= accepted);
      assert.deepEqual(
        side.received,
        Array.from({ length: accepted }, (_, i) => i),
      );
      assert.equal(tun.stats().txDropped, 0);
      assert.equal(tun.stats().txPackets, accepted);
    } finally {
      side.stop();
      await tun.close();
    }
  });

  it('a ring that stays full past the retry budget: the waiting packets are dropped and counted, sendReady resolves', async () => {
    const tun = await openFake({ ringCapacity: 128 * 1024, pendingSlots: 16, sendRetryMs: 5 });
    try {
      let accepted = 0;
      while (tun.send(sequencePacket(accepted, 1000))) accepted++;
      await tun.sendReady(); // space frees because the budget ran out, not because the ring drained
      await waitUntil('the pending queue dropped', () => tun.stats().txPending === 0);
      const stats = tun.stats();
      assert.equal(stats.txDropped, 16, `txDropped ${stats.txDropped}`);
      assert.equal(stats.txPackets, accepted - 16);
      // Still stuck: a new packet is tried once and dropped, not spun on for another budget.
      assert.ok(tun.send(sequencePacket(9999, 1000)));
      await waitUntil('the new packet dropped', () => tun.stats().txDropped === 17);
      // The ring drains: sends succeed again.
      const side = drainSent(tun.name);
      try {
        await waitUntil('the ring drained', () => fakeWintun().state(tun.name).sendRingPackets === 0);
        assert.ok(tun.send(sequencePacket(10_000, 1000)));
        await waitUntil('the packet after recovery', () => side.received.includes(10_000));
      } finally {
        side.stop();
      }
    } finally {
      await tun.close();
    }
  });

  it('close discards what is pending, counted in txDropped', async () => {
    const tun = await openFake({ ringCapacity: 128 * 1024, pendingSlots: 16, sendRetryMs: 1000 });
    let accepted = 0;
    while (tun.send(sequencePacket(accepted, 1000))) accepted++;
    await tun.close();
    const stats = tun.stats();
    assert.equal(stats.txPackets + stats.txDropped, accepted, 'every accepted packet is sent or counted as dropped');
    assert.ok(stats.txDropped >= 1);
    assert.equal(fakeWintun().state(tun.name).callsAfterEnd, 0);
  });
});
