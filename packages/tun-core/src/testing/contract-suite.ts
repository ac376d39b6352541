// The Tun contract suite: every platform package runs it against its own device, so all
// devices agree on batch limits, order, backpressure, bad input and close.
// Usage (in a test file): tunContractSuite('LinuxTun', async () => harness);

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunClosedError, TunConfigError, type TunError, TunOsError, TunPacketError } from '../errors.js';
import { PacketBatch } from '../packet-batch.js';
import type { MakeHarness, TunHarness } from './harness.js';
import { readSequence } from './packets.js';

export interface ContractSuiteOptions {
  /** Reason to skip the whole suite (e.g. missing privileges outside CI); printed by node:test. */
  skip?: string | false;
  /** Milliseconds each test may take (default 20 s). */
  timeout?: number;
}

/** Receives until `count` sequence-carrying packets arrived (others are ignored). */
async function receiveSequences(harness: TunHarness, batch: PacketBatch, count: number): Promise<number[][]> {
  const calls: number[][] = [];
  let total = 0;
  while (total < count) {
    const n = await harness.tun.recvMany(batch);
    assert.ok(n >= 1, `recvMany resolved ${n} while ${count - total} packets were still expected`);
    assert.ok(n <= batch.capacity, `recvMany returned ${n} packets into a batch of capacity ${batch.capacity}`);
    assert.equal(batch.length, n);
    const seqs: number[] = [];
    for (const packet of batch) {
      const seq = readSequence(packet);
      if (seq !== undefined) seqs.push(seq);
    }
    calls.push(seqs);
    total += seqs.length;
  }
  return calls;
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

/**
 * With the other side paused: sends until the outbound queue refuses, twice (a read already in
 * flight when the pause began may drain one more batch). Returns how many packets were taken.
 */
async function fillWhilePaused(h: TunHarness): Promise<number> {
  let accepted = 0;
  for (let round = 0; round < 2; round++) {
    while (h.tun.send(h.outbound(accepted, 200))) {
      accepted++;
      assert.ok(accepted < 1_000_000, 'send never refused: the outbound queue is unbounded');
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  return accepted;
}

/** Resolves 'settled' when `promise` settles within `ms`, else 'still pending'. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<'settled' | 'still pending'> {
  return Promise.race([
    promise.then(() => 'settled' as const),
    new Promise<'still pending'>((r) => setTimeout(() => r('still pending'), ms)),
  ]);
}

export function tunContractSuite(name: string, makeHarness: MakeHarness, options: ContractSuiteOptions = {}): void {
  const testOptions = { timeout: options.timeout ?? 20_000 };

  describe(`Tun contract: ${name}`, { skip: options.skip ?? false }, () => {
    async function withHarness(body: (h: TunHarness) => Promise<void>): Promise<void> {
      const h = await makeHarness();
      try {
        await body(h);
      } finally {
        await h.tun.close();
        await h.dispose();
      }
    }

    it('recvMany delivers injected packets in order, at most batch.capacity per call', testOptions, () =>
      withHarness(async (h) => {
        const batch = new PacketBatch({ capacity: 100 });
        const receiving = receiveSequences(h, batch, 250);
        for (let i = 0; i < 250; i++) await h.inject(i, 200);
        const calls = await receiving;
        assert.deepEqual(calls.flat(), range(0, 250));
      }),
    );

    it('a packet that does not fit the batch bytes waits for the next call', testOptions, () =>
      withHarness(async (h) => {
        const size = 600;
        const room = Math.max(h.tun.mtu, 3 * 608);
        const batch = new PacketBatch({ capacity: 100, byteCapacity: room });
        const receiving = receiveSequences(h, batch, 7);
        for (let i = 0; i < 7; i++) await h.inject(i, size);
        const calls = await receiving;
        assert.deepEqual(calls.flat(), range(0, 7));
        for (const call of calls) assert.ok(call.length * 608 <= room, `one call returned ${call.length} packets`);
      }),
    );

    it('recvMany waits for the first packet instead of resolving empty', testOptions, () =>
      withHarness(async (h) => {
        const batch = new PacketBatch();
        let settled = false;
        const pending = h.tun.recvMany(batch).then((n) => {
          settled = true;
          return n;
        });
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(settled, false, 'recvMany resolved with no packet available');
        await h.inject(7, 100);
        const n = await pending;
        assert.ok(n >= 1);
        const seqs = [...batch].map(readSequence).filter((s) => s !== undefined);
        if (seqs.length > 0) assert.deepEqual(seqs, [7]);
      }),
    );

    it('rejects a second concurrent recvMany and a batch smaller than the MTU', testOptions, () =>
      withHarness(async (h) => {
        const first = h.tun.recvMany(new PacketBatch());
        await assert.rejects(h.tun.recvMany(new PacketBatch()), (e: TunError) => e.code === 'ERR_TUN_RECV_PENDING');
        const tiny = new PacketBatch({ capacity: 4, byteCapacity: 64 });
        await assert.rejects(h.tun.recvMany(tiny), (e: TunError) => e instanceof TunConfigError);
        await h.tun.close();
        assert.equal(await first, 0);
      }),
    );

    it('send and sendMany deliver packets to the other side in order', testOptions, () =>
      withHarness(async (h) => {
        for (let i = 0; i < 50; i++) {
          while (!h.tun.send(h.outbound(i, 300))) await h.tun.sendReady();
        }
        const batch = new PacketBatch({ capacity: 100 });
        for (let i = 50; i < 150; i++) assert.ok(batch.push(h.outbound(i, 300)));
        let start = 0;
        while (start < batch.length) {
          start += h.tun.sendMany(batch, start);
          if (start < batch.length) await h.tun.sendReady();
        }
        assert.deepEqual(await h.collect(150), range(0, 150));
        assert.ok(h.tun.stats().txPackets >= 150);
      }),
    );

    it(
      'backpressure: send refuses when full, sendReady resolves once drained, nothing accepted is lost',
      testOptions,
      () =>
        withHarness(async (h) => {
          if (h.pauseOtherSide && h.resumeOtherSide) {
            h.pauseOtherSide();
            const accepted = await fillWhilePaused(h);
            assert.ok(h.tun.stats().txRefused >= 1);
            let ready = false;
            const readyPromise = h.tun.sendReady().then(() => {
              ready = true;
            });
            await new Promise((r) => setTimeout(r, 30));
            assert.equal(ready, false, 'sendReady resolved while the queue was still full');
            h.resumeOtherSide();
            const collected = h.collect(accepted + 1, 10_000);
            await readyPromise;
            assert.ok(h.tun.send(h.outbound(accepted, 200)), 'send refused right after sendReady resolved');
            assert.deepEqual(await collected, range(0, accepted + 1));
          } else {
            // The other side cannot stop (a kernel always takes what the device writes): check
            // that a producer using sendReady gets every packet written, none dropped.
            const total = 20_000;
            const before = h.tun.stats();
            for (let i = 0; i < total; i++) {
              while (!h.tun.send(h.outbound(i, 200))) await h.tun.sendReady();
            }
            const deadline = Date.now() + 10_000;
            const written = () => h.tun.stats().txPackets + h.tun.stats().txDropped;
            while (written() < before.txPackets + before.txDropped + total && Date.now() < deadline) {
              await new Promise((r) => setTimeout(r, 10));
            }
            const after = h.tun.stats();
            assert.equal(after.txPackets - before.txPackets, total, 'every accepted packet was written');
            assert.equal(after.txDropped, before.txDropped, 'no accepted packet was dropped');
          }
        }),
    );

    it('refuses empty, oversize and non-IP packets without delivering anything', testOptions, () =>
      withHarness(async (h) => {
        const mtu = h.tun.mtu;
        const refuse = (packet: Uint8Array, code: string) =>
          assert.throws(
            () => h.tun.send(packet),
            (e: unknown) => e instanceof TunPacketError && e.code === code && e.message.length > 0,
          );
        refuse(new Uint8Array(0), 'ERR_TUN_PACKET_SIZE');
        const big = new Uint8Array(mtu + 1);
        big[0] = 0x45;
        refuse(big, 'ERR_TUN_PACKET_SIZE');
        const notIp = h.outbound(1, 100);
        notIp[0] = 0x00;
        refuse(notIp, 'ERR_TUN_PACKET_VERSION');
        notIp[0] = 0x55;
        refuse(notIp, 'ERR_TUN_PACKET_VERSION');
        const batch = new PacketBatch();
        batch.push(h.outbound(2, 100));
        batch.push(notIp);
        assert.throws(() => h.tun.sendMany(batch), TunPacketError);
        // The valid packet before the bad one may have been taken; nothing invalid arrives.
        while (!h.tun.send(h.outbound(3, 100))) await h.tun.sendReady();
        const seqs = await h
          .collect(1, 5_000)
          .then(async (first) => (first[0] === 2 ? [...first, ...(await h.collect(1, 5_000))] : first));
        assert.equal(seqs.at(-1), 3);
      }),
    );

    it('close: a pending recvMany resolves 0, later calls behave as documented, close is idempotent', testOptions, () =>
      withHarness(async (h) => {
        const batch = new PacketBatch();
        const pending = h.tun.recvMany(batch);
        await new Promise((r) => setTimeout(r, 20));
        await h.tun.close();
        assert.equal(await pending, 0);
        assert.equal(h.tun.closed, true);
        assert.equal(h.tun.endedBy, undefined, 'a plain close() is not an end by itself');
        assert.equal(await h.tun.recvMany(batch), 0);
        assert.throws(() => h.tun.send(h.outbound(1, 100)), TunClosedError);
        assert.throws(() => h.tun.sendMany(batch), TunClosedError);
        await h.tun.sendReady();
        await h.tun.close();
      }),
    );

    it('close: a sendReady pending on a full queue resolves', testOptions, () =>
      withHarness(async (h) => {
        if (h.pauseOtherSide) {
          h.pauseOtherSide();
          await fillWhilePaused(h);
          const pending = h.tun.sendReady();
          let early = false;
          void pending.then(() => {
            early = true;
          });
          await new Promise((r) => setTimeout(r, 20));
          assert.equal(early, false, 'sendReady resolved while the queue was still full');
          await h.tun.close();
          assert.equal(await settlesWithin(pending, 2_000), 'settled', 'close left a sendReady waiter pending');
          h.resumeOtherSide?.();
          return;
        }
        // The other side cannot pause (a kernel takes every write): a synchronous burst fills the
        // queue faster than the device drains it. Without yielding to the event loop between
        // sendReady and close, no drain wake-up can settle the waiter: only close can.
        for (let attempt = 0; attempt < 50; attempt++) {
          let seq = 0;
          while (seq < 20_000 && h.tun.send(h.outbound(seq, 200))) seq++;
          if (seq === 20_000) {
            // Never refused: this device writes synchronously, so sendReady never waits.
            assert.equal(await settlesWithin(h.tun.sendReady(), 100), 'settled', 'sendReady waited with room to send');
            return;
          }
          const pending = h.tun.sendReady();
          // Refused again right after: the queue was full when sendReady looked, so it is waiting.
          if (!h.tun.send(h.outbound(seq, 200))) {
            void h.tun.close();
            assert.equal(await settlesWithin(pending, 2_000), 'settled', 'close left a sendReady waiter pending');
            return;
          }
          await pending; // the queue drained in between: try again
        }
        assert.fail('in 50 attempts the queue never stayed full between two sends');
      }),
    );

    it('ends by itself: recvMany resolves 0, it behaves as closed, and endedBy says why', testOptions, () =>
      withHarness(async (h) => {
        assert.equal(h.tun.endedBy, undefined);
        const batch = new PacketBatch();
        const pending = h.tun.recvMany(batch);
        await new Promise((r) => setTimeout(r, 20));
        const errno = await h.endByItself();
        assert.equal(await settlesWithin(pending, 2_000), 'settled', 'recvMany stayed pending after the device ended');
        assert.equal(await pending, 0);
        assert.equal(h.tun.closed, true, 'an ended device is closed');
        const endedBy: unknown = h.tun.endedBy; // (unknown: TS narrowed it to undefined above)
        assert.ok(endedBy instanceof TunOsError, `endedBy is ${String(endedBy)}, not a TunOsError`);
        assert.equal(endedBy.errno, errno);
        assert.equal(endedBy.code, `ERR_TUN_OS_${errno}`);
        assert.ok(endedBy.syscall.length > 0, 'endedBy names the call that failed');
        assert.ok(endedBy.message.length > 0);
        assert.equal(await h.tun.recvMany(batch), 0);
        assert.throws(() => h.tun.send(h.outbound(1, 100)), TunClosedError);
        batch.push(h.outbound(2, 100));
        assert.throws(() => h.tun.sendMany(batch), TunClosedError);
        assert.equal(await settlesWithin(h.tun.sendReady(), 100), 'settled');
        await h.tun.close();
        assert.equal(h.tun.endedBy, endedBy, 'close() after the end keeps endedBy');
      }),
    );

    it('ends by itself: a sendReady pending on a full queue resolves', testOptions, () =>
      withHarness(async (h) => {
        if (h.pauseOtherSide) {
          h.pauseOtherSide();
          await fillWhilePaused(h);
          const pending = h.tun.sendReady();
          assert.equal(
            await settlesWithin(pending, 20),
            'still pending',
            'sendReady resolved while the queue was full',
          );
          await h.endByItself();
          assert.equal(await settlesWithin(pending, 2_000), 'settled', 'the end left a sendReady waiter pending');
          assert.ok(h.tun.endedBy instanceof TunOsError);
          assert.throws(() => h.tun.send(h.outbound(1, 100)), TunClosedError);
          h.resumeOtherSide?.();
          return;
        }
        // A kernel takes every write: a synchronous burst fills the queue (as in the close test),
        // then the device ends while sendReady waits.
        let ended = false;
        for (let attempt = 0; attempt < 50 && !ended; attempt++) {
          let seq = 0;
          while (seq < 20_000 && h.tun.send(h.outbound(seq, 200))) seq++;
          if (seq === 20_000) break; // never refused (it writes synchronously): nothing can wait
          const pending = h.tun.sendReady();
          if (h.tun.send(h.outbound(seq, 200))) {
            await pending; // the queue drained in between: try again
            continue;
          }
          await h.endByItself();
          ended = true;
          assert.equal(await settlesWithin(pending, 2_000), 'settled', 'the end left a sendReady waiter pending');
        }
        if (!ended) await h.endByItself();
        // Noticed at the latest by the next recvMany (tun.ts).
        const next = h.tun.recvMany(new PacketBatch());
        assert.equal(await settlesWithin(next, 2_000), 'settled', 'recvMany stayed pending after the device ended');
        assert.equal(await next, 0);
        assert.ok(h.tun.endedBy instanceof TunOsError);
        assert.throws(() => h.tun.send(h.outbound(1, 100)), TunClosedError);
      }),
    );

    it('async iteration yields batches until close', testOptions, () =>
      withHarness(async (h) => {
        const seen: number[] = [];
        const iterating = (async () => {
          for await (const batch of h.tun) {
            for (const p of batch) {
              const s = readSequence(p);
              if (s !== undefined) seen.push(s);
            }
            if (seen.length >= 10) void h.tun.close();
          }
        })();
        for (let i = 0; i < 10; i++) await h.inject(i, 100);
        await iterating;
        assert.deepEqual(seen, range(0, 10));
      }),
    );

    it('stats count what was received and sent', testOptions, () =>
      withHarness(async (h) => {
        const receiving = receiveSequences(h, new PacketBatch(), 20);
        for (let i = 0; i < 20; i++) await h.inject(i, 100);
        await receiving;
        for (let i = 0; i < 5; i++) {
          while (!h.tun.send(h.outbound(i, 100))) await h.tun.sendReady();
        }
        await h.collect(5);
        const stats = h.tun.stats();
        assert.ok(stats.rxPackets >= 20, `rxPackets ${stats.rxPackets}`);
        assert.ok(stats.rxBytes >= 2000, `rxBytes ${stats.rxBytes}`);
        assert.ok(stats.txPackets >= 5, `txPackets ${stats.txPackets}`);
        assert.ok(stats.queues.length >= 1);
        const sum = stats.queues.reduce((s, q) => s + q.rxPackets, 0);
        assert.equal(sum, stats.rxPackets);
      }),
    );
  });
}
