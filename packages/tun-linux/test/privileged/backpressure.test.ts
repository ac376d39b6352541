// Backpressure on receive: while the consumer does not read, a flood of 10^6 packets from the
// kernel side fills the bounded inbound channel, the queue threads stop reading (counted), the
// kernel drops the excess (its tx_dropped), memory stays bounded, and after resuming every packet
// that was accepted arrives, in order.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { readSequence } from '@tunkit/tun-core/testing';
import { openTun } from '../../src/index.js';
import { enterTestNamespace } from './kernel-side.js';

const { skip } = enterTestNamespace('tun-linux backpressure');
const OFFERED = 1_000_000;
/** The stated bound: RSS may grow by at most this much while 10^6 packets are offered. */
const RSS_BOUND_MB = 64;

const FLOODER = `
const dgram = require('node:dgram');
const socket = dgram.createSocket('udp4');
socket.bind(9001, '10.33.0.1', async () => {
  for (let seq = 0; seq < ${OFFERED}; seq++) {
    // A fresh buffer per datagram: dgram may still hold the previous one.
    const payload = Buffer.alloc(64);
    payload.writeUInt32BE(0x544b5351, 0);
    payload.writeUInt32BE(seq, 4);
    socket.send(payload, 9000, '10.33.0.2');
    if (seq % 512 === 511) await new Promise((r) => setImmediate(r));
  }
  socket.close(() => console.log('done'));
});
`;

describe('LinuxTun receive backpressure', { skip }, () => {
  it('stops reading when JS does not, keeps memory bounded, and loses nothing it accepted', {
    timeout: 120_000,
  }, async () => {
    const tun = await openTun({ name: 'tkbp0', queues: 2, addresses: ['10.33.0.1/24'], inboundSlots: 1024 });
    try {
      const rssBefore = process.memoryUsage.rss();
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
      }, 20);
      const flooder = spawn(process.execPath, ['-e', FLOODER], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        flooder.stdout.on('data', (d) => String(d).includes('done') && resolve());
        flooder.once('exit', (code) => code !== 0 && reject(new Error(`flooder exited with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 100));
      clearInterval(sampler);

      const stalled = tun.stats();
      assert.ok(stalled.rxStalls >= 1, 'the queue threads never stopped reading');
      assert.ok(stalled.rxPackets <= 2 * 1024, `accepted ${stalled.rxPackets} packets beyond the channel bound`);
      assert.ok(stalled.kernelTxDropped > 0, 'the kernel dropped nothing: the flood did not exceed its queue');
      const growthMb = (rssPeak - rssBefore) / 2 ** 20;
      assert.ok(growthMb < RSS_BOUND_MB, `RSS grew by ${growthMb.toFixed(1)} MB (bound ${RSS_BOUND_MB} MB)`);

      // Resume: read until nothing more comes; everything accepted arrives, in order.
      const batch = new PacketBatch();
      let last = -1;
      let delivered = 0;
      for (;;) {
        const n = await Promise.race([tun.recvMany(batch), new Promise<number>((r) => setTimeout(() => r(-1), 300))]);
        if (n === -1) break;
        for (const p of batch) {
          const seq = readSequence(p);
          if (seq === undefined) continue;
          assert.ok(seq > last, `packet ${seq} after ${last}: reordered or duplicated`);
          last = seq;
          delivered++;
        }
      }
      const final = tun.stats();
      assert.equal(delivered, final.rxPackets, 'a packet accepted into the channel was lost');
      assert.ok(delivered > stalled.rxPackets, 'reading did not resume after the stall');
      console.log(
        `# offered ${OFFERED}, accepted ${final.rxPackets}, kernel dropped ${final.kernelTxDropped}, stalls ${final.rxStalls}, RSS +${growthMb.toFixed(1)} MB`,
      );
    } finally {
      await tun.close();
    }
  });
});
