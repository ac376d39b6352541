// MTU and the queue slots: an open device refuses an MTU its slots cannot hold; a packet larger
// than a slot anyway (the MTU raised behind our back with `ip link`) is dropped and counted, never
// delivered cut short, and the queue goes on reading. (A removed interface ends the device: the
// contract suite and lifecycle.test.ts.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { PacketBatch, TunConfigError } from '@tunkit/tun-core';
import { readSequence, sequencePayload } from '@tunkit/tun-core/testing';
import { interfaceState, openTun, setMtu } from '../../src/index.js';
import { enterTestNamespace, sendUdp, udpSocket } from './kernel-side.js';

const { skip } = enterTestNamespace('tun-linux mtu');

/** Receives until `count` sequence packets arrived or `ms` passed; returns [seq, length] pairs. */
async function receive(
  tun: Awaited<ReturnType<typeof openTun>>,
  count: number,
  ms: number,
): Promise<[number, number][]> {
  const batch = new PacketBatch();
  const got: [number, number][] = [];
  const deadline = Date.now() + ms;
  // One recvMany at a time: a call still pending when the timer wins is awaited next round, not repeated.
  let pending: Promise<number> | undefined;
  while (got.length < count && Date.now() < deadline) {
    pending ??= tun.recvMany(batch);
    const n = await Promise.race([pending, new Promise<number>((r) => setTimeout(() => r(-1), 100))]);
    if (n === -1) continue;
    pending = undefined;
    if (n === 0) break;
    for (const p of batch) {
      const seq = readSequence(p);
      if (seq !== undefined) got.push([seq, p.length]);
    }
  }
  return got;
}

describe('LinuxTun MTU and queue slots', { skip }, () => {
  it('refuses an MTU above what the open device holds, naming the value and the limit', async () => {
    const tun = await openTun({ name: 'tkmtu0', mtu: 1420 });
    try {
      assert.equal(tun.maxMtu, 2048);
      setMtu('tkmtu0', 2048); // within the slots: fine
      assert.equal(interfaceState('tkmtu0').mtu, 2048);
      assert.throws(
        () => setMtu('tkmtu0', 9000),
        (e: TunConfigError) =>
          e instanceof TunConfigError && e.code === 'ERR_TUN_MTU' && /MTU 9000 on tkmtu0 is above 2048/.test(e.message),
      );
      assert.equal(interfaceState('tkmtu0').mtu, 2048, 'the refused MTU was applied anyway');
      assert.throws(
        () => setMtu('tkmtu0', 67),
        (e: TunConfigError) => e instanceof TunConfigError && /got 67/.test(e.message),
      );
    } finally {
      await tun.close();
    }
    const big = await openTun({ name: 'tkmtu0', mtu: 9000 });
    try {
      assert.equal(big.maxMtu, 9000);
      setMtu('tkmtu0', 9000);
    } finally {
      await big.close();
    }
  });

  for (const offload of [false, true]) {
    it(`drops and counts a packet larger than a slot, and reads on (offload ${offload})`, async () => {
      const name = `tkmtu${offload ? 2 : 1}`;
      const tun = await openTun({ name, queues: 1, offload, addresses: [`10.71.${offload ? 2 : 1}.1/24`] });
      const sender = await udpSocket(`10.71.${offload ? 2 : 1}.1`, 7100);
      try {
        // Behind the package's back: 4000 > the 2048-byte slots.
        execFileSync('ip', ['link', 'set', 'dev', name, 'mtu', '4000']);
        const remote = `10.71.${offload ? 2 : 1}.2`;
        await sendUdp(sender, sequencePayload(1, 100), 7101, remote);
        await sendUdp(sender, sequencePayload(2, 2900), 7101, remote); // a 2928-byte packet
        await sendUdp(sender, sequencePayload(3, 100), 7101, remote);
        const got = await receive(tun, 2, 3000);
        assert.deepEqual(
          got.map(([seq]) => seq),
          [1, 3],
          'the oversize packet must be dropped, and the queue must go on reading',
        );
        for (const [, length] of got) assert.equal(length, 128);
        const stats = tun.stats();
        assert.equal(stats.rxDropped, 1, 'the oversize packet was not counted');
        assert.equal(stats.rxErrors, 0);
      } finally {
        sender.close();
        await tun.close();
      }
    });
  }
});
