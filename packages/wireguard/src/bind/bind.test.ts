import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketBatch, TunClosedError, type TunOsError } from '@tunkit/tun-core';
import { waitUntil } from '@tunkit/tun-core/testing';
import { BindPortInUseError, type Endpoint } from './bind.js';
import { MemoryNetwork } from './memory-bind.js';
import { UdpBind } from './udp-bind.js';

function datagrams(count: number, size: number, tag: number): PacketBatch {
  const batch = new PacketBatch({ capacity: count });
  for (let i = 0; i < count; i++) batch.push(new Uint8Array(size).fill((tag + i) & 0xff));
  return batch;
}

async function receiveAll(bind: { recvMany(b: PacketBatch, f: Endpoint[]): Promise<number> }, count: number) {
  const batch = new PacketBatch();
  const from: Endpoint[] = [];
  const got: { first: number; from: Endpoint }[] = [];
  while (got.length < count) {
    const n = await bind.recvMany(batch, from);
    assert.ok(n > 0);
    for (let i = 0; i < n; i++) got.push({ first: batch.packet(i)[0] as number, from: from[i] as Endpoint });
  }
  return got;
}

describe('UdpBind (loopback)', () => {
  it('sends a batch and receives it as batches with the sender endpoint, IPv4 and IPv6', async () => {
    const a = await UdpBind.open({ address: '127.0.0.1', ipv6: false });
    const b = await UdpBind.open();
    try {
      const to = { address: '127.0.0.1', port: b.port };
      assert.equal(a.sendMany(datagrams(50, 200, 0), to), 50);
      const got = await receiveAll(b, 50);
      assert.deepEqual(
        got.map((g) => g.first),
        Array.from({ length: 50 }, (_, i) => i),
      );
      assert.deepEqual(got[0]?.from, { address: '127.0.0.1', port: a.port });
      // And back over IPv6 loopback.
      const c = await UdpBind.open({ address: '::1' });
      try {
        assert.equal(c.sendMany(datagrams(3, 100, 7), { address: '::1', port: b.port }), 3);
        const back = await receiveAll(b, 3);
        assert.deepEqual(back[0]?.from, { address: '::1', port: c.port });
      } finally {
        await c.close();
      }
      assert.equal(b.stats().rxDatagrams, 53);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('bounds datagrams in flight: sendMany takes at most sendQueue, sendReady resolves as sends complete', async () => {
    const a = await UdpBind.open({ address: '127.0.0.1', ipv6: false, sendQueue: 8 });
    const b = await UdpBind.open({ address: '127.0.0.1', ipv6: false });
    try {
      const batch = datagrams(20, 100, 0);
      const to = { address: '127.0.0.1', port: b.port };
      let sent = a.sendMany(batch, to);
      assert.equal(sent, 8);
      assert.equal(a.stats().txRefused, 1);
      while (sent < 20) {
        await a.sendReady();
        sent += a.sendMany(batch, to, sent);
      }
      assert.equal((await receiveAll(b, 20)).length, 20);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('drops and counts what its bounded receive queue cannot hold', async () => {
    const a = await UdpBind.open({ address: '127.0.0.1', ipv6: false });
    const b = await UdpBind.open({ address: '127.0.0.1', ipv6: false, receiveQueue: 16 });
    try {
      let sent = 0;
      const batch = datagrams(64, 64, 0);
      while (sent < 64) {
        sent += a.sendMany(batch, { address: '127.0.0.1', port: b.port }, sent);
        await a.sendReady();
      }
      const deadline = Date.now() + 3000;
      while (b.stats().rxDatagrams + b.stats().rxDropped < 64 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(b.stats().rxDatagrams, 16);
      assert.equal(b.stats().rxDropped, 48);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('reports a port in use with a typed error, leaving no socket behind, and closes cleanly', async () => {
    const a = await UdpBind.open({ address: '127.0.0.1', ipv6: false });
    // Sockets of this test file's process (libuv frees a closed one an iteration after its close callback).
    const onlyA = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length === 1;
    await waitUntil('the earlier tests’ sockets to be freed', onlyA);
    await assert.rejects(
      UdpBind.open({ address: '127.0.0.1', ipv6: false, port: a.port }),
      (e: TunOsError) =>
        e instanceof BindPortInUseError &&
        e.errno === 'EADDRINUSE' &&
        e.port === a.port &&
        e.message.includes(String(a.port)),
    );
    // The failed socket is closed: it kept the event loop, and so the process, alive.
    await waitUntil('the refused socket to be freed', onlyA, 2000);
    const pending = a.recvMany(new PacketBatch(), []);
    await a.close();
    assert.equal(await pending, 0);
    assert.throws(() => a.sendMany(datagrams(1, 1, 0), { address: '127.0.0.1', port: 9 }), TunClosedError);
    await a.close();
  });
});

describe('MemoryNetwork', () => {
  it('delivers between binds, drops to unbound endpoints and full queues, refuses a taken address', async () => {
    const net = new MemoryNetwork();
    const a = net.bind('10.0.0.1', 51820);
    const b = net.bind('10.0.0.2', 51820, { receiveQueue: 4 });
    assert.throws(() => net.bind('10.0.0.2', 51820), /already bound/);
    a.sendMany(datagrams(6, 10, 0), b.local);
    a.sendMany(datagrams(1, 10, 0), { address: '10.9.9.9', port: 1 });
    assert.equal(net.undeliverable, 1);
    const got = await receiveAll(b, 4);
    assert.deepEqual(got[0]?.from, a.local);
    assert.equal(b.stats().rxDropped, 2);
    await a.close();
    await b.close();
    net.bind('10.0.0.1', 51820);
  });
});
