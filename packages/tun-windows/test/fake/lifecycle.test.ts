// Open and close over the fake WinTun: close while the receive thread is inside ReceivePacket, in
// the read-event wait, or waiting for channel space; 1,000 open/close cycles leave no thread,
// adapter, session or kernel object behind; a terminated worker with a device open shuts down.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { PacketBatch } from '@tunkit/tun-core';
import { sequencePacket, waitUntil } from '@tunkit/tun-core/testing';
import { fakeWintun } from '../../src/native.js';
import { injectPacket, openFake } from './fake-harness.js';

const threads = () => readdirSync('/proc/self/task').length;

describe('WinTun device lifecycle (fake WinTun)', () => {
  it('starts two named threads and stops both at close', async () => {
    const before = threads();
    const tun = await openFake();
    assert.equal(threads(), before + 2, 'the receive thread and the send thread');
    // Each thread names itself as it starts.
    const names = () =>
      readdirSync('/proc/self/task').map((t) => {
        try {
          return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
        } catch {
          return '';
        }
      });
    await waitUntil('both threads named', () => names().includes('wintun-receive') && names().includes('wintun-send'));
    await tun.close();
    assert.equal(threads(), before);
  });

  it('close while the receive thread is inside ReceivePacket: no deadlock, EndSession only after it returned', async () => {
    const tun = await openFake();
    await waitUntil('the first wait', () => tun.stats().rxWaits >= 1);
    const fake = fakeWintun();
    assert.ok(fake.delayNextReceive(tun.name, 200));
    await injectPacket(tun.name, sequencePacket(1, 100)); // wakes the thread into the slow ReceivePacket
    await sleep(20);
    const started = Date.now();
    await tun.close();
    const took = Date.now() - started;
    assert.ok(took >= 100 && took < 4_000, `close took ${took} ms: it must wait for the call, not time out`);
    const state = fake.state(tun.name);
    assert.equal(state.callsAfterEnd, 0, 'a WinTun call ran on an ended session');
    assert.equal(state.sessionActive, false);
    assert.equal(state.adapterOpen, false);
    assert.equal(state.receiveHeld, 0);
  });

  it('close while the receive thread waits on the read event, and while it waits for channel space', async () => {
    const idle = await openFake();
    await waitUntil('the wait', () => idle.stats().rxWaits >= 1);
    let started = Date.now();
    await idle.close();
    assert.ok(Date.now() - started < 1_000, 'the quit event ends the wait at once');

    const full = await openFake({ inboundSlots: 16 });
    for (let i = 0; i < 40; i++) await injectPacket(full.name, sequencePacket(i, 100));
    await waitUntil('the stall', () => full.stats().rxStalls >= 1);
    started = Date.now();
    await full.close();
    assert.ok(Date.now() - started < 1_000);
    const stats = full.stats();
    assert.equal(stats.rxDropped, 16, 'the packets in the channel at close are counted as dropped');
    assert.equal(fakeWintun().state(full.name).callsAfterEnd, 0);
  });

  it('1,000 open/close cycles leave no thread, adapter, session or kernel object behind', {
    timeout: 120_000,
  }, async () => {
    const fake = fakeWintun();
    const before = { threads: threads(), ...fake.openCounts() };
    for (let i = 0; i < 1000; i++) {
      const tun = await openFake({ ringCapacity: 128 * 1024 });
      if (i % 3 === 0) await injectPacket(tun.name, sequencePacket(i, 100));
      if (i % 5 === 0) {
        const batch = new PacketBatch();
        const pending = tun.recvMany(batch);
        await tun.close();
        await pending;
      } else {
        await tun.close();
      }
    }
    assert.equal(threads(), before.threads, 'threads leaked');
    const after = fake.openCounts();
    assert.equal(after.adapters, before.adapters, 'adapters left open');
    assert.equal(after.sessions, before.sessions, 'sessions left active');
    assert.equal(after.kernelObjects, before.kernelObjects, 'events or thread handles left open');
  });

  it('a worker terminated with a device open: the cleanup hook stops its threads', async () => {
    const before = threads();
    const name = `tk-worker-${process.pid}`;
    const worker = new Worker(new URL('./device-worker.mjs', import.meta.url), { workerData: { name } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    assert.ok(threads() >= before + 2);
    await worker.terminate();
    await waitUntil('the worker and its device threads gone', () => threads() <= before, 5_000);
    const state = fakeWintun().state(name);
    assert.equal(state.sessionActive, false);
    assert.equal(state.adapterOpen, false);
  });
});
