// Multi-queue: with 4 queues and 8 concurrent UDP flows, more than one queue carries traffic and
// every flow's packets arrive in order, in both directions (kernel → JS and JS → kernel).
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { describe, it } from 'node:test';
import { PacketBatch, transportInfo } from '@tunkit/tun-core';
import { readSequence, sequencePacket, sequencePayload } from '@tunkit/tun-core/testing';
import { openTun } from '../../src/index.js';
import { enterTestNamespace, payloadSequence, sendUdp, udpSocket } from './kernel-side.js';

const { skip } = enterTestNamespace('tun-linux multi-queue');
const FLOWS = 8;
const PER_FLOW = 2000;

function sourcePort(packet: Uint8Array): number {
  const info = transportInfo(packet);
  return info === undefined ? -1 : ((packet[info.offset] as number) << 8) | (packet[info.offset + 1] as number);
}

describe('LinuxTun multi-queue', { skip }, () => {
  it('kernel → JS: flows spread over queues, each flow in order', async () => {
    const tun = await openTun({ name: 'tkmq0', queues: 4, addresses: ['10.44.0.1/24'] });
    const sockets: Socket[] = [];
    try {
      for (let f = 0; f < FLOWS; f++) sockets.push(await udpSocket('10.44.0.1', 6000 + f));
      const expected = new Map<number, number>();
      let received = 0;
      const reading = (async () => {
        const batch = new PacketBatch();
        while (received < FLOWS * PER_FLOW) {
          if ((await tun.recvMany(batch)) === 0) return;
          for (const p of batch) {
            const seq = readSequence(p);
            if (seq === undefined) continue;
            const port = sourcePort(p);
            assert.equal(seq, expected.get(port) ?? 0, `flow from port ${port} out of order`);
            expected.set(port, seq + 1);
            received++;
          }
        }
      })();
      // All flows interleaved, as concurrent senders would be.
      for (let seq = 0; seq < PER_FLOW; seq++) {
        await Promise.all(sockets.map((s) => sendUdp(s, sequencePayload(seq, 64), 7000, '10.44.0.2')));
      }
      await reading;
      assert.equal(received, FLOWS * PER_FLOW);
      const busy = tun.stats().queues.filter((q) => q.rxPackets > 0).length;
      assert.ok(busy >= 2, `only ${busy} of 4 queues carried the ${FLOWS} flows`);
    } finally {
      for (const s of sockets) s.close();
      await tun.close();
    }
  });

  it('JS → kernel: each flow is written by one queue, in order, and flows use several queues', async () => {
    const tun = await openTun({ name: 'tkmq1', queues: 4, addresses: ['10.45.0.1/24'] });
    const sockets: Socket[] = [];
    const next = new Array<number>(FLOWS).fill(0);
    let errors = 0;
    try {
      for (let f = 0; f < FLOWS; f++) {
        const socket = await udpSocket('10.45.0.1', 8000 + f);
        socket.on('message', (message) => {
          const seq = payloadSequence(message);
          if (seq !== next[f]) errors++;
          next[f] = (seq ?? 0) + 1;
        });
        sockets.push(socket);
      }
      const batch = new PacketBatch({ capacity: 100 });
      for (let seq = 0; seq < PER_FLOW; seq += 10) {
        batch.clear();
        for (let s = seq; s < seq + 10; s++) {
          for (let f = 0; f < FLOWS; f++) {
            const packet = sequencePacket(s, 100, [10, 45, 0, 2], [10, 45, 0, 1]);
            packet[22] = (8000 + f) >> 8; // UDP destination port → flow f (the checksum stays valid: see below)
            packet[23] = (8000 + f) & 0xff;
            packet[26] = 0; // no UDP checksum (allowed for IPv4) after the port edit
            packet[27] = 0;
            batch.push(packet);
          }
        }
        let sent = 0;
        while (sent < batch.length) {
          sent += tun.sendMany(batch, sent);
          if (sent < batch.length) await tun.sendReady();
        }
      }
      const deadline = Date.now() + 10_000;
      while (next.some((n) => n < PER_FLOW) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(next, new Array(FLOWS).fill(PER_FLOW), 'every flow complete');
      assert.equal(errors, 0, 'a flow arrived out of order');
      const busy = tun.stats().queues.filter((q) => q.txPackets > 0).length;
      assert.ok(busy >= 2, `only ${busy} of 4 queues wrote the ${FLOWS} flows`);
    } finally {
      for (const s of sockets) s.close();
      await tun.close();
    }
  });
});
