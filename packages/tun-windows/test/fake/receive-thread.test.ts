// The receive thread over the fake WinTun: the spin path (a packet that appears without the read
// event is still found), the wait path (an idle ring means a wait on the read event, and a packet
// then wakes it), a full channel leaving packets in WinTun's ring (no drop) and recovering, and
// ERROR_HANDLE_EOF (adapter removed), from ReceivePacket or from AllocateSendPacket, ending the device.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { readSequence, sequencePacket, waitUntil } from '@tunkit/tun-core/testing';
import { fakeWintun } from '../../src/native.js';
import { injectPacket, openFake } from './fake-harness.js';

const fake = () => fakeWintun();

import { setTimeout as sleep } from 'node:timers/promises';

/** Receives `count` packets; rejects after `timeoutMs` (the test's finally then closes the device). */
async function receiveAll(
  tun: Awaited<ReturnType<typeof openFake>>,
  count: number,
  timeoutMs = 5_000,
): Promise<number[]> {
  const batch = new PacketBatch({ capacity: 100 });
  const seqs: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`received ${seqs.length} of ${count} packets in ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    while (seqs.length < count) {
      const n = await Promise.race([tun.recvMany(batch), deadline]);
      assert.ok(n > 0, 'recvMany resolved 0 before all packets arrived');
      for (const p of batch) seqs.push(readSequence(p) as number);
    }
    return seqs;
  } finally {
    clearTimeout(timer);
  }
}

describe('WinTun receive thread (fake WinTun)', () => {
  it('wait path: an idle thread sleeps on the read event and the next packet wakes it', async () => {
    const tun = await openFake();
    try {
      await waitUntil('the first wait', () => tun.stats().rxWaits >= 1);
      const callsWhileIdle = fake().state(tun.name).receiveCalls;
      await sleep(50);
      // Asleep in WaitForMultipleObjects: no polling while nothing arrives.
      assert.equal(fake().state(tun.name).receiveCalls, callsWhileIdle, 'the thread polled ReceivePacket while idle');
      const receiving = receiveAll(tun, 1);
      await injectPacket(tun.name, sequencePacket(41, 100));
      assert.deepEqual(await receiving, [41]);
      assert.ok(tun.stats().rxWaits >= 1);
    } finally {
      await tun.close();
    }
  });

  it('spin path: after traffic, a packet that appears during the spin is taken without the read event', async () => {
    const tun = await openFake();
    try {
      await waitUntil('the first wait', () => tun.stats().rxWaits >= 1);
      const waitsBefore = tun.stats().rxWaits;
      // The packet that wakes the thread starts a spin; the second one shows up after 10 empty
      // polls and never sets the read event: only spinning can find it.
      assert.ok(fake().deferUntilEmptyPolls(tun.name, sequencePacket(2, 100), 10));
      const receiving = receiveAll(tun, 2);
      await injectPacket(tun.name, sequencePacket(1, 100));
      assert.deepEqual(await receiving, [1, 2]);
      const stats = tun.stats();
      assert.ok(stats.rxSpinHits >= 1, `rxSpinHits ${stats.rxSpinHits}`);
      // One wait ended by the first packet, then a new one only after the spin budget ran out.
      await waitUntil('the wait after the spin', () => tun.stats().rxWaits === waitsBefore + 1);
      assert.ok(fake().state(tun.name).emptyReceives >= 10);
    } finally {
      await tun.close();
    }
  });

  it('a full channel: the thread waits and WinTun’s ring keeps the packets, none dropped; then all arrive in order', async () => {
    const tun = await openFake({ inboundSlots: 16 });
    try {
      for (let i = 0; i < 300; i++) await injectPacket(tun.name, sequencePacket(i, 200));
      await waitUntil('the stall', () => tun.stats().rxStalls >= 1);
      await sleep(20);
      const state = fake().state(tun.name);
      assert.equal(state.receiveRingPackets, 300 - 16, 'the packets beyond the channel stay in the WinTun ring');
      assert.equal(state.injectDropped, 0);
      assert.equal(tun.stats().rxPackets, 16);
      assert.equal(tun.stats().rxDropped, 0);
      const seqs = await receiveAll(tun, 300);
      assert.deepEqual(
        seqs,
        Array.from({ length: 300 }, (_, i) => i),
      );
      assert.equal(tun.stats().rxDropped, 0);
      assert.equal(fake().state(tun.name).receiveRingPackets, 0);
    } finally {
      await tun.close();
    }
  });

  it('ERROR_HANDLE_EOF (adapter removed) ends the thread and the device: recvMany resolves 0, endedBy says why', async () => {
    const tun = await openFake();
    const batch = new PacketBatch();
    const pending = tun.recvMany(batch);
    await sleep(10);
    assert.ok(fake().terminate(tun.name));
    assert.equal(await pending, 0);
    assert.equal(tun.closed, true);
    assert.equal(tun.endedBy?.errno, 'ERROR_HANDLE_EOF');
    assert.equal(tun.endedBy?.syscall, 'WintunReceivePacket');
    const state = fake().state(tun.name);
    assert.equal(state.sessionActive, false, 'EndSession ran');
    assert.equal(state.adapterOpen, false, 'CloseAdapter ran');
    assert.equal(state.callsAfterEnd, 0);
  });

  it('ERROR_HANDLE_EOF from AllocateSendPacket ends the device too: the send is taken, endedBy names the call', async () => {
    const tun = await openFake();
    fake().failNext('WintunAllocateSendPacket', 38); // ERROR_HANDLE_EOF
    assert.equal(
      tun.send(sequencePacket(1, 100)),
      true,
      'a send to a gone adapter is taken (and counted), not refused',
    );
    await waitUntil('the device to end', () => tun.closed, 2_000);
    assert.equal(tun.endedBy?.errno, 'ERROR_HANDLE_EOF');
    assert.equal(tun.endedBy?.syscall, 'WintunAllocateSendPacket');
    assert.equal(tun.stats().txDropped, 1);
    assert.equal(await tun.recvMany(new PacketBatch()), 0);
  });
});
