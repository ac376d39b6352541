// The Device's loops under adverse conditions (in memory): what a peer sends cannot stop them,
// an unexpected error is counted and logged but never ends a loop, the ticker never refills a
// batch still being sent, and a full Tun stops UDP reads (backpressure). Plus UAPI set semantics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryTun, PacketBatch } from '@tunkit/tun-core';
import { readSequence, sequencePacket } from '@tunkit/tun-core/testing';
import { type Bind, type Endpoint, emptyBindStats } from '../bind/bind.js';
import { MemoryNetwork } from '../bind/memory-bind.js';
import { EADDRINUSE, EINVAL } from '../config/uapi.js';
import { generatePrivateKey, keyToHex, publicKeyFrom } from '../protocol/keys.js';
import { Device, type DeviceOptions } from './device.js';

interface SideOptions {
  mtu?: number;
  tunCapacity?: number;
  receiveQueue?: number;
  extra?: Partial<DeviceOptions>;
}

function pair(optionsA: SideOptions = {}, optionsB: SideOptions = {}) {
  const network = new MemoryNetwork();
  const make = (address: string, options: SideOptions) => {
    const [tun, host] = MemoryTun.pair({ mtu: options.mtu ?? 1420, capacity: options.tunCapacity ?? 256 });
    const privateKey = generatePrivateKey();
    const logged: string[] = [];
    const bind = network.bind(address, 51820, { receiveQueue: options.receiveQueue ?? 1024 });
    const device = new Device({
      tun,
      bind,
      privateKey,
      tickInterval: 20,
      log: (message) => logged.push(message),
      ...options.extra,
    });
    return { device, host, logged, publicKey: publicKeyFrom(privateKey) };
  };
  const a = make('10.0.0.1', optionsA);
  const b = make('10.0.0.2', optionsB);
  a.device.addPeer({ publicKey: b.publicKey, endpoint: { address: '10.0.0.2', port: 51820 } }, ['10.9.0.2/32']);
  b.device.addPeer({ publicKey: a.publicKey }, ['10.9.0.1/32']);
  a.device.start();
  b.device.start();
  const close = async () => {
    await a.device.close();
    await b.device.close();
  };
  return { a, b, close };
}

async function receive(host: MemoryTun, count: number, timeout = 3000): Promise<number[]> {
  const batch = new PacketBatch();
  const seqs: number[] = [];
  while (seqs.length < count) {
    const n = await Promise.race([host.recvMany(batch), new Promise<number>((r) => setTimeout(() => r(-1), timeout))]);
    if (n <= 0) throw new Error(`received ${seqs.length} of ${count}: ${seqs.join(',')}`);
    for (const p of batch) {
      const s = readSequence(p);
      if (s !== undefined) seqs.push(s);
    }
  }
  return seqs;
}

const aToB = (seq: number, size = 100) => sequencePacket(seq, size, [10, 9, 0, 1], [10, 9, 0, 2]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Device robustness (in memory)', () => {
  it('a peer’s packet larger than our Tun MTU is dropped and counted; the receive loop carries on', async () => {
    const { a, b, close } = pair({ mtu: 1420 }, { mtu: 1280 });
    try {
      a.host.send(aToB(1));
      assert.deepEqual(await receive(b.host, 1), [1]);
      a.host.send(aToB(2, 1400)); // fits a's Tun, not b's
      a.host.send(aToB(3));
      assert.deepEqual(await receive(b.host, 1), [3]);
      assert.equal(b.device.engine.drops['inner-packet-too-big'], 1);
      assert.equal(b.device.loopErrors, 0);
    } finally {
      await close();
    }
  });

  it('an unexpected Tun error is counted and logged, and the loop reads on', async () => {
    const { a, b, close } = pair();
    try {
      a.host.send(aToB(1));
      assert.deepEqual(await receive(b.host, 1), [1]);
      const tun = b.device.tun as MemoryTun;
      const sendMany = tun.sendMany.bind(tun);
      let failures = 1;
      tun.sendMany = (batch: PacketBatch, start?: number) => {
        if (failures-- > 0) throw new Error('injected Tun failure');
        return sendMany(batch, start);
      };
      a.host.send(aToB(2));
      await sleep(100);
      a.host.send(aToB(3));
      assert.deepEqual(await receive(b.host, 1), [3]);
      assert.equal(b.device.loopErrors, 1);
      assert.ok(
        b.logged.some((m) => /writing to the Tun/.test(m)),
        b.logged.join('\n'),
      );
    } finally {
      await close();
    }
  });

  it('backpressure: while the Tun cannot take more, UDP is not read (the bind’s bounded queue overflows instead)', async () => {
    const { a, b, close } = pair({}, { tunCapacity: 8, receiveQueue: 16 });
    try {
      a.host.send(aToB(0));
      assert.deepEqual(await receive(b.host, 1), [0]);
      for (let i = 1; i <= 400; i++) {
        while (!a.host.send(aToB(i))) await a.host.sendReady();
        if (i % 50 === 0) await sleep(5);
      }
      await sleep(200);
      const stats = b.device.bindStats();
      assert.ok(stats.rxDropped > 0, `the Device kept reading UDP: ${JSON.stringify(stats)}`);
      // What the Device did take was all written, in order, once the host read.
      const got = await receive(b.host, 8, 500).catch(() => []);
      assert.ok(got.length >= 8);
      assert.deepEqual(
        got,
        [...got].sort((x, y) => x - y),
      );
      const drops = Object.entries(b.device.engine.drops).filter(([, n]) => n > 0);
      assert.deepEqual(drops, [], 'nothing dropped by the Device itself');
      assert.equal(b.device.loopErrors, 0);
    } finally {
      await close();
    }
  });

  it('the ticker does not refill its batch while an earlier send of it is still waiting on the bind', async () => {
    const bind = new SlowBind();
    const [tun] = MemoryTun.pair();
    let clock = 0;
    const device = new Device({
      tun,
      bind,
      privateKey: generatePrivateKey(),
      tickInterval: 2,
      now: () => (clock += 6_000), // every tick: a retransmission for every peer
      log: () => {},
    });
    for (let i = 0; i < 3; i++) {
      device.addPeer({
        publicKey: publicKeyFrom(generatePrivateKey()),
        endpoint: { address: `10.0.0.${i + 10}`, port: 51820 },
        persistentKeepalive: 1,
      });
    }
    const tick = device.engine.tick.bind(device.engine);
    let overlaps = 0;
    device.engine.tick = (out, to) => {
      if (bind.busy) overlaps++;
      tick(out, to);
    };
    device.start();
    await sleep(300);
    await device.close();
    assert.ok(bind.sent.length >= 6, `only ${bind.sent.length} sent`);
    assert.equal(overlaps, 0, 'tick ran while its batch was being sent');
    const unique = new Set(bind.sent.map((d) => Buffer.from(d).toString('hex')));
    assert.equal(unique.size, bind.sent.length, 'a datagram went out twice');
  });
});

describe('Device UAPI set', () => {
  it('the same private_key again keeps sessions (wg syncconf); a new one resets them', async () => {
    const { a, b, close } = pair();
    try {
      a.host.send(aToB(1));
      await receive(b.host, 1);
      const peer = [...a.device.engine.peers()][0];
      const session = peer?.current;
      assert.ok(session);
      await a.device.uapiSet(`private_key=${keyToHex(a.device.engine.privateKey)}\n`);
      assert.equal(peer?.current, session);
      await a.device.uapiSet(`private_key=${keyToHex(generatePrivateKey())}\n`);
      assert.equal(peer?.current, undefined);
    } finally {
      await close();
    }
  });

  it('answers invalid input with EINVAL and a failed rebind with EADDRINUSE, as wireguard-go', async () => {
    const { a, b, close } = pair(
      {},
      {
        extra: {
          rebind: async () => {
            throw new Error('port taken');
          },
        },
      },
    );
    try {
      const key = keyToHex(publicKeyFrom(generatePrivateKey()));
      const set = (body: string) => a.device.uapiHandler('set', body);
      assert.equal((await set('private_key=xyz\n')).errno, EINVAL);
      assert.equal((await set(`public_key=${key}\nallowed_ip=10.0.0.300/32\n`)).errno, EINVAL);
      assert.equal((await set(`public_key=${key}\nendpoint=[zz]:1\n`)).errno, EINVAL);
      for (const flag of ['remove', 'update_only', 'replace_allowed_ips']) {
        assert.equal((await set(`public_key=${key}\n${flag}=false\n`)).errno, EINVAL, flag);
      }
      assert.equal((await set('listen_port=1\n')).errno, EADDRINUSE, 'no rebind possible');
      assert.equal((await b.device.uapiHandler('set', 'listen_port=1\n')).errno, EADDRINUSE, 'rebind failed');
      assert.equal(b.device.listenPort, 51820, 'the old socket stays');
    } finally {
      await close();
    }
  });

  it('records fwmark for UAPI get and says, once, that it is not applied', async () => {
    const { a, close } = pair();
    try {
      await a.device.uapiSet('fwmark=7\n');
      await a.device.uapiSet('fwmark=7\n');
      assert.match(a.device.uapiGet(), /\nfwmark=7\n/);
      assert.equal(a.logged.filter((m) => /fwmark 7 .*not applied/.test(m)).length, 1, a.logged.join('\n'));
    } finally {
      await close();
    }
  });
});

/** A Bind that takes one datagram per sendMany and is ready again only 20 ms later. */
class SlowBind implements Bind {
  readonly port = 51820;
  readonly sent: Uint8Array[] = [];
  /** True while a sendMany left part of its batch untaken. */
  busy = false;
  private wake: (() => void) | undefined;

  recvMany(): Promise<number> {
    return new Promise((resolve) => {
      this.wake = () => resolve(0);
    });
  }

  sendMany(batch: PacketBatch, _to: readonly Endpoint[] | Endpoint, start = 0): number {
    const taken = Math.min(1, batch.length - start);
    if (taken > 0) this.sent.push(batch.packet(start).slice());
    this.busy = start + taken < batch.length;
    return taken;
  }

  sendReady(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 20));
  }

  stats() {
    return emptyBindStats();
  }

  async close(): Promise<void> {
    this.wake?.();
  }
}
