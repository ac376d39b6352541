import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryTun, PacketBatch, TunClosedError, TunOsError } from '@tunkit/tun-core';
import { readSequence, sequencePacket, waitUntil } from '@tunkit/tun-core/testing';
import { MemoryNetwork } from '../bind/memory-bind.js';
import { generatePrivateKey, publicKeyFrom } from '../protocol/keys.js';
import { Device } from './device.js';

/** Two devices on an in-memory network; each TUN's far side is returned as `host`. */
function pair() {
  const network = new MemoryNetwork();
  const make = (address: string) => {
    const [tun, host] = MemoryTun.pair({ mtu: 1420 });
    const privateKey = generatePrivateKey();
    const device = new Device({ tun, bind: network.bind(address, 51820), privateKey, tickInterval: 20 });
    return { device, tun, host, publicKey: publicKeyFrom(privateKey) };
  };
  const a = make('10.0.0.1');
  const b = make('10.0.0.2');
  a.device.addPeer({ publicKey: b.publicKey, endpoint: { address: '10.0.0.2', port: 51820 } }, ['10.9.0.2/32']);
  b.device.addPeer({ publicKey: a.publicKey }, ['10.9.0.1/32']);
  a.device.start();
  b.device.start();
  return { a, b, network };
}

async function receive(host: MemoryTun, count: number): Promise<number[]> {
  const batch = new PacketBatch();
  const seqs: number[] = [];
  while (seqs.length < count) {
    const n = await Promise.race([host.recvMany(batch), new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
    if (n <= 0) throw new Error(`received ${seqs.length} of ${count}`);
    for (const p of batch) {
      const s = readSequence(p);
      if (s !== undefined) seqs.push(s);
    }
  }
  return seqs;
}

describe('Device (in memory)', () => {
  it('handshakes on first packet, then carries packets both ways, in order', async () => {
    const { a, b } = pair();
    try {
      // Until the handshake completes, packets wait in a bounded per-peer queue (128, as in
      // wireguard-go): send one, then the rest once the session exists.
      a.host.send(sequencePacket(1_000_000, 100, [10, 9, 0, 1], [10, 9, 0, 2]));
      assert.deepEqual(await receive(b.host, 1), [1_000_000]);
      for (let i = 0; i < 300; i++) {
        while (!a.host.send(sequencePacket(i, 200, [10, 9, 0, 1], [10, 9, 0, 2]))) await a.host.sendReady();
      }
      assert.deepEqual(
        await receive(b.host, 300),
        Array.from({ length: 300 }, (_, i) => i),
      );
      // Sizes up to the MTU, including ones padding cannot round to 16 (1420 stays 1420).
      for (let i = 0; i < 50; i++) b.host.send(sequencePacket(i, 1371 + i, [10, 9, 0, 2], [10, 9, 0, 1]));
      assert.deepEqual(
        await receive(a.host, 50),
        Array.from({ length: 50 }, (_, i) => i),
      );
      assert.equal(a.device.engine.counters.handshakesCompleted, 1);
      assert.equal(b.device.engine.counters.handshakesAnswered, 1);
      const drops = Object.entries({ ...a.device.engine.drops, ...b.device.engine.drops }).filter(([, n]) => n > 0);
      assert.deepEqual(drops, [], 'no drops');
      // b learned a's endpoint from the authenticated handshake (roaming).
      assert.deepEqual([...b.device.engine.peers()][0]?.endpoint, { address: '10.0.0.1', port: 51820 });
    } finally {
      await a.device.close();
      await b.device.close();
    }
  });

  it('drops (and counts) packets whose inner source is not the peer’s allowed IP, and unroutable packets', async () => {
    const { a, b } = pair();
    try {
      a.host.send(sequencePacket(1, 100, [10, 9, 0, 1], [10, 9, 0, 2]));
      await receive(b.host, 1);
      a.host.send(sequencePacket(2, 100, [10, 9, 0, 7], [10, 9, 0, 2])); // spoofed source
      a.host.send(sequencePacket(3, 100, [10, 9, 0, 1], [10, 99, 0, 9])); // no peer for it
      const deadline = Date.now() + 2000;
      while (b.device.engine.drops['disallowed-source'] === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(b.device.engine.drops['disallowed-source'], 1);
      assert.equal(a.device.engine.drops['no-route'], 1);
    } finally {
      await a.device.close();
      await b.device.close();
    }
  });

  it('answers wg-style UAPI get and applies set', async () => {
    const { a, b } = pair();
    try {
      const text = a.device.uapiGet();
      assert.match(text, /^private_key=[0-9a-f]{64}\nlisten_port=51820\npublic_key=[0-9a-f]{64}\n/);
      assert.match(text, /allowed_ip=10\.9\.0\.2\/32/);
      const newPeer = Buffer.from(publicKeyFrom(generatePrivateKey())).toString('hex');
      await a.device.uapiSet(
        `public_key=${newPeer}\nendpoint=[fd00::9]:1234\nallowed_ip=10.77.0.0/16\npersistent_keepalive_interval=25\n`,
      );
      const after = a.device.uapiGet();
      assert.match(
        after,
        new RegExp(`public_key=${newPeer}\\npreshared_key=0{64}\\nprotocol_version=1\\nendpoint=\\[fd00::9\\]:1234`),
      );
      assert.match(after, /persistent_keepalive_interval=25\nallowed_ip=10\.77\.0\.0\/16/);
      await a.device.uapiSet(`public_key=${newPeer}\nremove=true\n`);
      assert.doesNotMatch(a.device.uapiGet(), new RegExp(newPeer));
      await assert.rejects(a.device.uapiSet('bogus=1\n'), /unknown device key/);
    } finally {
      await a.device.close();
      await b.device.close();
    }
  });

  it('its Tun ending by itself ends the Device: ended resolves with endedBy, the Bind closes, no keepalive follows', async () => {
    const { a, b, network } = pair();
    try {
      a.host.send(sequencePacket(1, 100, [10, 9, 0, 1], [10, 9, 0, 2]));
      await receive(b.host, 1);
      const peer = [...a.device.engine.peers()][0];
      assert.ok(peer);
      peer.persistentKeepalive = 1;
      const heard = () => b.device.bindStats().rxDatagrams;
      const before = heard();
      await waitUntil('a keepalive from a', () => heard() > before, 3_000);
      const reason = new TunOsError('ENODEV', 'memory', 'the memory device was removed');
      a.tun.endByItself(reason);
      assert.equal(await settles(a.device.ended, 2_000), reason);
      assert.equal(a.device.endedBy, reason);
      assert.equal(a.device.loopErrors, 0);
      assert.equal(
        network.deliver({ address: '10.0.0.2', port: 51820 }, { address: '10.0.0.1', port: 51820 }, new Uint8Array(32)),
        false,
        'the Bind is still open',
      );
      const after = heard();
      await new Promise((r) => setTimeout(r, 1_300));
      assert.equal(heard(), after, 'the ended Device still sent (keepalives, handshakes)');
      await a.device.close(); // its owner's close afterwards is a no-op
      assert.equal(a.device.endedBy, reason);
    } finally {
      await a.device.close();
      await b.device.close();
    }
  });

  it('its Tun closed under it ends the Device too, with a TunClosedError; close() ends it with undefined', async () => {
    const { a, b } = pair();
    try {
      await a.tun.close();
      const reason = await settles(a.device.ended, 2_000);
      assert.ok(reason instanceof TunClosedError, `ended with ${String(reason)}`);
      assert.equal(a.device.endedBy, reason);
      assert.equal(b.device.endedBy, undefined);
      await b.device.close();
      assert.equal(await settles(b.device.ended, 2_000), undefined);
      assert.equal(b.device.endedBy, undefined, 'a plain close() is not an end');
    } finally {
      await a.device.close();
      await b.device.close();
    }
  });
});

/** What `promise` resolves with, or a rejection if it does not within `ms`. */
async function settles<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
