// LinuxUdpBind (recvmmsg/sendmmsg/UDP GSO) as a WireGuard Bind: batches both ways, IPv4 and
// IPv6, interop with the node:dgram UdpBind, GSO runs split back into datagrams, send
// backpressure, truncated datagrams counted, clear errors, close.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PacketBatch, TunOsError } from '@tunkit/tun-core';
import { type Bind, BindPortInUseError, type Endpoint } from './bind.js';
import { LinuxUdpBind, type LinuxUdpBindOptions } from './linux-udp-bind.js';
import { UdpBind } from './udp-bind.js';

const linux = process.platform === 'linux';
const open = (options: LinuxUdpBindOptions = {}): Promise<Bind> => LinuxUdpBind.open(options);

function datagrams(count: number, size: number, tag: number, room = 0): PacketBatch {
  const batch = new PacketBatch({ capacity: count + room, byteCapacity: (count + room) * (size + 64) + 65_536 });
  for (let i = 0; i < count; i++) {
    const d = new Uint8Array(size).fill((tag + i) & 0xff);
    d[1] = i >> 8;
    d[2] = i & 0xff;
    batch.push(d);
  }
  return batch;
}

async function receive(bind: Bind, count: number): Promise<{ seq: number; size: number; from: Endpoint }[]> {
  const batch = new PacketBatch({ capacity: 100, byteCapacity: 100 * 2048 + 65_536 });
  const from: Endpoint[] = [];
  const got: { seq: number; size: number; from: Endpoint }[] = [];
  while (got.length < count) {
    const n = await bind.recvMany(batch, from);
    assert.ok(n > 0);
    for (let i = 0; i < n; i++) {
      const d = batch.packet(i);
      got.push({ seq: ((d[1] as number) << 8) | (d[2] as number), size: d.length, from: from[i] as Endpoint });
    }
  }
  return got;
}

describe('LinuxUdpBind', { skip: linux ? false : 'Linux only' }, () => {
  it('exchanges batches with the node:dgram UdpBind both ways, IPv4 and IPv6, with sender endpoints', async () => {
    const ours = await open({ address: '127.0.0.1', ipv6: false });
    const theirs = await UdpBind.open({ address: '127.0.0.1', ipv6: false });
    const ours6 = await open({ address: '::1' });
    try {
      assert.equal(ours.sendMany(datagrams(60, 300, 0), { address: '127.0.0.1', port: theirs.port }), 60);
      const got = await receive(theirs, 60);
      assert.deepEqual(
        got.map((g) => g.seq),
        Array.from({ length: 60 }, (_, i) => i),
      );
      assert.deepEqual(got[0]?.from, { address: '127.0.0.1', port: ours.port });
      assert.equal(theirs.sendMany(datagrams(30, 500, 3), { address: '127.0.0.1', port: ours.port }), 30);
      const back = await receive(ours, 30);
      assert.deepEqual(
        back.map((g) => g.seq),
        Array.from({ length: 30 }, (_, i) => i),
      );
      assert.deepEqual(back[29]?.from, { address: '127.0.0.1', port: theirs.port });
      assert.ok(back[0]?.from === back[29]?.from, 'one endpoint object per source, not one per datagram');
      assert.equal(ours6.sendMany(datagrams(5, 100, 9), { address: '::1', port: ours6.port }), 5);
      const self6 = await receive(ours6, 5);
      assert.deepEqual(self6[0]?.from, { address: '::1', port: ours6.port });
      assert.equal(ours.stats().rxDatagrams, 30);
      assert.equal(ours.stats().txDatagrams, 60);
    } finally {
      await ours.close();
      await theirs.close();
      await ours6.close();
    }
  });

  it('sends runs of equal-size datagrams as UDP GSO and they arrive as separate datagrams, the short last one too', async () => {
    const a = await open({ address: '127.0.0.1', ipv6: false });
    const b = await open({ address: '127.0.0.1', ipv6: false });
    const c = await open({ address: '127.0.0.1', ipv6: false });
    try {
      const batch = datagrams(99, 1452, 0, 1);
      assert.ok(batch.push(new Uint8Array(700).fill(1))); // shorter last datagram, seq 0x0101
      const to = Array.from({ length: 100 }, (_, i) => ({ address: '127.0.0.1', port: i < 70 ? b.port : c.port }));
      assert.equal(a.sendMany(batch, to), 100);
      const atB = await receive(b, 70);
      assert.deepEqual(
        atB.map((g) => g.seq),
        Array.from({ length: 70 }, (_, i) => i),
      );
      assert.ok(atB.every((g) => g.size === 1452));
      const atC = await receive(c, 30);
      assert.deepEqual(
        atC.map((g) => g.size),
        [...new Array(29).fill(1452), 700],
      );
    } finally {
      await a.close();
      await b.close();
      await c.close();
    }
  });

  it('takes what the socket buffer holds, then sendReady resolves and the rest goes out', async () => {
    const a = await open({ address: '127.0.0.1', ipv6: false, socketBuffer: 4096, gso: false });
    const b = await open({ address: '127.0.0.1', ipv6: false, socketBuffer: 1 << 22 });
    try {
      const batch = datagrams(1000, 1400, 0);
      const to = { address: '127.0.0.1', port: b.port };
      let sent = a.sendMany(batch, to);
      let refusals = 0;
      while (sent < 1000) {
        refusals++;
        await a.sendReady();
        sent += a.sendMany(batch, to, sent);
      }
      const stats = a.stats();
      assert.equal(stats.txDatagrams + stats.txErrors, 1000);
      assert.equal(stats.txRefused, refusals);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('drops and counts datagrams larger than maxDatagram; close settles a pending recvMany with 0', async () => {
    const a = await open({ address: '127.0.0.1', ipv6: false });
    const b = await open({ address: '127.0.0.1', ipv6: false, maxDatagram: 512 });
    const batch = new PacketBatch({ capacity: 8 });
    const from: Endpoint[] = [];
    const oversize = new PacketBatch({ capacity: 2 });
    oversize.push(new Uint8Array(1000));
    oversize.push(new Uint8Array(100).fill(7));
    a.sendMany(oversize, { address: '127.0.0.1', port: b.port });
    assert.equal(await b.recvMany(batch, from), 1);
    assert.equal(batch.packet(0).length, 100);
    assert.equal(b.stats().rxDropped, 1);
    const pending = b.recvMany(batch, from);
    await b.close();
    assert.equal(await pending, 0);
    await a.close();
  });

  it('counts an IPv6 peer of an IPv4-only bind as a bad endpoint, and sends the rest', async () => {
    const a = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false });
    const b = await open({ address: '127.0.0.1', ipv6: false });
    try {
      const to = [
        { address: '2001:db8::9', port: b.port },
        { address: '127.0.0.1', port: b.port },
      ];
      // Before, the first 4 bytes of the IPv6 address were taken as an IPv4 one (32.1.13.184): the
      // kernel refused that from a loopback socket with EINVAL, which also turned GSO off for good.
      assert.equal(a.sendMany(datagrams(2, 100, 0), to), 2);
      assert.equal(a.stats().txBadEndpoint, 1);
      assert.equal(a.stats().txErrors, 0);
      assert.equal(a.stats().txDatagrams, 1);
      const got = await receive(b, 1);
      assert.equal(got[0]?.seq, 1);
      const before = a.stats().txMessages;
      assert.equal(a.sendMany(datagrams(10, 100, 0), { address: '127.0.0.1', port: b.port }), 10);
      assert.equal(a.stats().txMessages - before, 1, 'GSO still on: ten datagrams in one message');
      await receive(b, 10);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('says when the port is taken, naming it', async () => {
    const a = await open({ address: '127.0.0.1', ipv6: false });
    try {
      await assert.rejects(open({ address: '127.0.0.1', ipv6: false, port: a.port }), (e: TunOsError) => {
        return (
          e instanceof BindPortInUseError &&
          e instanceof TunOsError &&
          e.errno === 'EADDRINUSE' &&
          e.port === a.port &&
          e.message.includes(`UDP port ${a.port} is in use`)
        );
      });
    } finally {
      await a.close();
    }
  });

  it('hands its port to native receive threads: recvMany then gets what they pass on, from every sender, once', async () => {
    for (const receiveThreads of [1, 2]) {
      const ours = (await open({ address: '127.0.0.1', ipv6: false, receiveThreads })) as LinuxUdpBind;
      const senders = await Promise.all(
        Array.from({ length: 32 }, () => UdpBind.open({ address: '127.0.0.1', ipv6: false })),
      );
      try {
        const pending = receive(ours, 32 * 8); // waiting on the socket when the threads take over
        ours.nativePort(); // no processor attached: the threads pass everything on to JS
        const names = readdirSync('/proc/self/task').map((tid) =>
          readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(),
        );
        const threads = names.filter((name) => name.startsWith('tunkit-udp-rx')).length;
        assert.equal(threads, receiveThreads, `receive threads for receiveThreads ${receiveThreads}`);
        for (const sender of senders)
          assert.equal(sender.sendMany(datagrams(8, 200, 1), { address: '127.0.0.1', port: ours.port }), 8);
        const got = await pending;
        // Every sender's 8 datagrams, each once and in its order (one sender is always one thread's).
        for (const sender of senders) {
          const seqs = got.filter((g) => g.from.port === sender.port).map((g) => g.seq);
          assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5, 6, 7], `from port ${sender.port}`);
        }
        const stats = ours.stats();
        assert.equal(stats.rxDatagrams, 32 * 8);
      } finally {
        await ours.close();
        for (const sender of senders) await sender.close();
      }
    }
  });

  it('refuses a receive thread count outside 1..16, naming it', async () => {
    for (const receiveThreads of [0, 17, 1.5]) {
      await assert.rejects(LinuxUdpBind.open({ receiveThreads }), (e: Error) =>
        e.message.includes(`receiveThreads must be an integer in 1..16, got ${receiveThreads}`),
      );
    }
  });
});
