// LinuxUdpBind's UDP GRO receive on loopback: GSO bursts (sent by a LinuxUdpBind's own sendmmsg
// with UDP_SEGMENT) arrive as coalesced messages and come out as separate packets, intact, in
// order, with their sender, laid out by the PacketBatch rule (with headroom and tailroom too), and
// a super-datagram larger than the batch's remaining room is carried over to the next recvMany.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import type { Endpoint } from './bind.js';
import { LinuxUdpBind } from './linux-udp-bind.js';

/** Datagram `seq` of `size` bytes: its sequence number in bytes 0..1, then a pattern from it. */
function datagram(seq: number, size: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = (seq * 7 + i) & 0xff;
  d[0] = seq >> 8;
  d[1] = seq & 0xff;
  return d;
}

/** A batch of `sizes.length` datagrams numbered from `first`. */
function burst(sizes: number[], first = 0): PacketBatch {
  const total = sizes.reduce((a, b) => a + b, 0);
  const batch = new PacketBatch({ capacity: sizes.length, byteCapacity: total + sizes.length * 8 + 8 });
  for (const [i, size] of sizes.entries()) assert.ok(batch.push(datagram(first + i, size)));
  return batch;
}

const runOf = (count: number, size: number, last?: number): number[] => [
  ...new Array(count).fill(size),
  ...(last === undefined ? [] : [last]),
];

interface Received {
  seq: number;
  size: number;
  from: Endpoint;
  intact: boolean;
}

/** Receives until `count` datagrams arrived, checking the layout rule of every batch. */
async function receive(bind: LinuxUdpBind, batch: PacketBatch, count: number, perCall?: number[]): Promise<Received[]> {
  const from: Endpoint[] = [];
  const got: Received[] = [];
  while (got.length < count) {
    const n = await bind.recvMany(batch, from);
    assert.ok(n > 0);
    perCall?.push(n);
    let used = 0;
    for (let i = 0; i < n; i++) {
      const start = batch.offsets[i] as number;
      assert.ok(start >= used + batch.headroom, `packet ${i} overlaps the previous one's tailroom or its headroom`);
      used = start + (batch.lengths[i] as number) + batch.tailroom;
      const d = batch.packet(i);
      const seq = ((d[0] as number) << 8) | (d[1] as number);
      const expected = datagram(seq, d.length);
      got.push({ seq, size: d.length, from: from[i] as Endpoint, intact: Buffer.compare(d, expected) === 0 });
    }
    assert.ok(used <= batch.bytesUsed && batch.bytesUsed <= batch.byteCapacity);
  }
  return got;
}

const sequence = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('LinuxUdpBind UDP GRO', { skip: process.platform === 'linux' ? false : 'Linux only' }, () => {
  it('splits coalesced GSO bursts into datagrams: intact, in order, with sender and lengths, fewer messages than datagrams', async () => {
    const receiver = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false, gro: true });
    const a = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false });
    const b = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false });
    try {
      assert.equal(receiver.gro, true, 'the kernel accepts UDP_GRO on loopback (Linux 5.0+)');
      const to = { address: '127.0.0.1', port: receiver.port };
      // Runs of 40 and 44 equal datagrams with a shorter last one, then single ones: from a and b.
      const sizes = [...runOf(40, 1452, 300), ...runOf(44, 1400, 1399), 77, 1452];
      assert.equal(a.sendMany(burst(sizes), to), sizes.length);
      assert.ok(a.stats().txMessages < 10, 'the sender used GSO');
      assert.equal(b.sendMany(burst(runOf(20, 1000, 8), 1000), to), 21);
      const batch = new PacketBatch({ capacity: 100, byteCapacity: 100 * 2048 + 65_536 });
      const got = await receive(receiver, batch, sizes.length + 21);
      assert.ok(got.every((g) => g.intact));
      const fromA = got.filter((g) => g.from.port === a.port);
      const fromB = got.filter((g) => g.from.port === b.port);
      assert.deepEqual(
        fromA.map((g) => g.seq),
        sequence(0, sizes.length),
      );
      assert.deepEqual(
        fromA.map((g) => g.size),
        sizes,
      );
      assert.deepEqual(
        fromB.map((g) => [g.seq, g.size]),
        sequence(1000, 21).map((seq, i) => [seq, i < 20 ? 1000 : 8]),
      );
      assert.ok(fromA.every((g) => g.from.address === '127.0.0.1'));
      assert.ok(fromA[0]?.from === fromA[40]?.from, 'one endpoint object per sender');
      const stats = receiver.stats();
      assert.equal(stats.rxDatagrams, sizes.length + 21);
      assert.equal(stats.rxDropped, 0);
      assert.ok(stats.rxMessages <= 8, `GRO: ${stats.rxMessages} messages carried ${stats.rxDatagrams} datagrams`);
    } finally {
      await receiver.close();
      await a.close();
      await b.close();
    }
  });

  it('lays datagrams out with headroom, tailroom and odd sizes, IPv6 too', async () => {
    const receiver = await LinuxUdpBind.open({ address: '::1', gro: true });
    const sender = await LinuxUdpBind.open({ address: '::1' });
    try {
      const sizes = [...runOf(30, 1201, 5), ...runOf(10, 333)];
      assert.equal(sender.sendMany(burst(sizes), { address: '::1', port: receiver.port }), sizes.length);
      const batch = new PacketBatch({ capacity: 100, headroom: 20, tailroom: 13 });
      const got = await receive(receiver, batch, sizes.length);
      assert.ok(got.every((g) => g.intact));
      assert.deepEqual(
        got.map((g) => [g.seq, g.size]),
        sizes.map((size, i) => [i, size]),
      );
      assert.deepEqual(got[0]?.from, { address: '::1', port: sender.port });
      assert.ok(receiver.stats().rxMessages <= 3);
    } finally {
      await receiver.close();
      await sender.close();
    }
  });

  it('keeps the datagrams of a super-datagram that outgrow the batch for the next recvMany', async () => {
    const receiver = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false, gro: true });
    const sender = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false });
    try {
      const to = { address: '127.0.0.1', port: receiver.port };
      // GSO messages of 64 and 36: the second meets a batch with room for 6 more packets.
      assert.equal(sender.sendMany(burst(runOf(100, 1000)), to), 100);
      const perCall: number[] = [];
      const got = await receive(receiver, new PacketBatch({ capacity: 70 }), 100, perCall);
      assert.deepEqual(
        got.map((g) => g.seq),
        sequence(0, 100),
      );
      assert.ok(got.every((g) => g.intact && g.size === 1000));
      assert.deepEqual(perCall, [70, 30]);

      // A batch smaller than one 64 KiB message: received aside, handed out 8 at a time, in order.
      assert.equal(sender.sendMany(burst(runOf(40, 1400, 100), 200), to), 41);
      const small = new PacketBatch({ capacity: 8, byteCapacity: 8 * 2048 });
      const smallCalls: number[] = [];
      const rest = await receive(receiver, small, 41, smallCalls);
      assert.deepEqual(
        rest.map((g) => [g.seq, g.size]),
        sequence(200, 41).map((seq, i) => [seq, i < 40 ? 1400 : 100]),
      );
      assert.ok(rest.every((g) => g.intact));
      assert.deepEqual(smallCalls, [8, 8, 8, 8, 8, 1]);
      const stats = receiver.stats();
      assert.equal(stats.rxDatagrams, 141);
      assert.equal(stats.rxDropped, 0);
      assert.equal(stats.rxMessages, 3);
    } finally {
      await receiver.close();
      await sender.close();
    }
  });

  it('drops and counts coalesced datagrams larger than maxDatagram, keeping the shorter last one', async () => {
    const receiver = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false, gro: true, maxDatagram: 1024 });
    const sender = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false });
    try {
      assert.equal(
        sender.sendMany(burst([...runOf(10, 1500, 600), ...runOf(5, 500)]), {
          address: '127.0.0.1',
          port: receiver.port,
        }),
        16,
      );
      const got = await receive(receiver, new PacketBatch({ capacity: 100 }), 6);
      assert.deepEqual(
        got.map((g) => [g.seq, g.size]),
        [[10, 600], ...sequence(11, 5).map((seq) => [seq, 500])],
      );
      assert.equal(receiver.stats().rxDropped, 10);
    } finally {
      await receiver.close();
      await sender.close();
    }
  });

  it('without gro, every message is one datagram', async () => {
    const receiver = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false, gro: false });
    const sender = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false });
    try {
      assert.equal(receiver.gro, false);
      assert.equal(sender.sendMany(burst(runOf(30, 1000, 10)), { address: '127.0.0.1', port: receiver.port }), 31);
      const got = await receive(receiver, new PacketBatch({ capacity: 100 }), 31);
      assert.deepEqual(
        got.map((g) => g.seq),
        sequence(0, 31),
      );
      assert.equal(receiver.stats().rxMessages, 31);
    } finally {
      await receiver.close();
      await sender.close();
    }
  });
});
