// Backpressure on send, on a real device: with small outbound queues a burst fills them, send
// returns false and sendMany takes less than offered (txRefused counts both), sendReady resolves
// once the queue thread has written, and every packet accepted reaches the kernel-side receiver,
// in order (sequence numbers in the payload).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { sequencePacket } from '@tunkit/tun-core/testing';
import { openTun } from '../../src/index.js';
import { enterTestNamespace, payloadSequence, udpSocket } from './kernel-side.js';

const { skip } = enterTestNamespace('tun-linux send backpressure');
const TOTAL = 20_000;
const ROUND = 100;

describe('LinuxTun send backpressure', { skip }, () => {
  it('refuses when the outbound queue is full, resolves sendReady when it drains, loses nothing accepted', {
    timeout: 60_000,
  }, async () => {
    const tun = await openTun({ name: 'tksbp0', queues: 1, outboundSlots: 16, addresses: ['10.72.0.1/24'] });
    const receiver = await udpSocket('10.72.0.1', 5001);
    const received: number[] = [];
    receiver.on('message', (message) => {
      const seq = payloadSequence(message);
      if (seq !== undefined) received.push(seq);
    });
    const packet = (seq: number) => sequencePacket(seq, 200, [10, 72, 0, 2], [10, 72, 0, 1]);
    try {
      let next = 0;
      // A batch of 100 into a queue of 16: sendMany stops at the first refusal.
      const batch = new PacketBatch({ capacity: 100 });
      for (let i = 0; i < 100; i++) batch.push(packet(i));
      const taken = tun.sendMany(batch);
      assert.ok(taken >= 1 && taken < 100, `sendMany took ${taken} of 100 into 16 slots`);
      next = taken;
      assert.equal(tun.stats().txRefused, 1);
      await tun.sendReady();
      // send() one by one until it refuses.
      let refusedAt = -1;
      while (refusedAt < 0) {
        if (tun.send(packet(next))) next++;
        else refusedAt = next;
        assert.ok(next < TOTAL, 'send never refused with 16 outbound slots');
      }
      let ready = false;
      const readyPromise = tun.sendReady().then(() => {
        ready = true;
      });
      await Promise.race([readyPromise, new Promise((r) => setTimeout(r, 5000))]);
      assert.ok(ready, 'sendReady did not resolve once the queue drained');
      assert.ok(tun.send(packet(next)), 'send refused right after sendReady resolved');
      next++;
      // The rest, the way a producer should: on false, wait for sendReady. In rounds the
      // receiving socket can hold (its buffer is the kernel's default, a few hundred packets;
      // beyond that the kernel would drop what the device delivered, which is not our loss).
      while (next < TOTAL) {
        const roundEnd = Math.min(TOTAL, next + ROUND);
        while (next < roundEnd) {
          if (tun.send(packet(next))) next++;
          else await tun.sendReady();
        }
        const deadline = Date.now() + 5000;
        while (received.length < next && Date.now() < deadline) await new Promise((r) => setImmediate(r));
        assert.equal(received.length, next, `the receiver got ${received.length} of ${next} accepted packets`);
      }
      const stats = tun.stats();
      assert.ok(stats.txRefused >= 2, `txRefused ${stats.txRefused}`);
      assert.equal(stats.txDropped, 0);
      assert.equal(stats.txPackets, TOTAL);
      assert.equal(received.length, TOTAL, `the receiver got ${received.length} of ${TOTAL} accepted packets`);
      for (let i = 0; i < TOTAL; i++) assert.equal(received[i], i, `packet ${received[i]} arrived in place of ${i}`);
      console.log(`# ${TOTAL} packets through 16 outbound slots, refused ${stats.txRefused} times, none lost`);
    } finally {
      receiver.close();
      await tun.close();
    }
  });
});
