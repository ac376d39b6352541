// Bad endpoints never break sending, on both Binds (native Linux and node:dgram): a datagram to
// port 0, to an IPv6 address from an IPv4-only socket, or to something that is not an address is
// refused alone and counted (txBadEndpoint); the rest of the batch goes out, no send slot leaks,
// and (native) GSO stays on. A datagram from source port 0 cannot be answered: dropped, counted
// (rxBadSource), the next one delivered. And the UAPI refuses an endpoint with port 0 (EINVAL).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { MemoryTun, PacketBatch } from '@tunkit/tun-core';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { EINVAL, UapiError } from '../config/uapi.js';
import { Device } from '../device/device.js';
import { generatePrivateKey, keyToHex, publicKeyFrom } from '../protocol/keys.js';
import type { Bind, BindStats, Endpoint } from './bind.js';
import { LinuxUdpBind } from './linux-udp-bind.js';
import { MemoryNetwork } from './memory-bind.js';
import { UdpBind } from './udp-bind.js';

const linux = process.platform === 'linux';

interface Opened extends Bind {
  stats(): BindStats & { txMessages?: number };
}

const backends: { name: string; skip: string | false; open(sendQueue?: number): Promise<Opened> }[] = [
  {
    name: 'LinuxUdpBind',
    skip: linux ? false : 'Linux only',
    open: () => LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false }),
  },
  {
    name: 'UdpBind (node:dgram)',
    skip: false,
    open: (sendQueue) => UdpBind.open({ address: '127.0.0.1', ipv6: false, ...(sendQueue ? { sendQueue } : {}) }),
  },
];

/** `count` datagrams of 200 bytes, datagram i starting with byte i. */
function datagrams(count: number): PacketBatch {
  const batch = new PacketBatch({ capacity: count, byteCapacity: count * 256 });
  for (let i = 0; i < count; i++) batch.push(new Uint8Array(200).fill(i));
  return batch;
}

/** Receives until `count` datagrams came (or 2 s passed); returns their first bytes. */
async function receive(bind: Bind, count: number): Promise<number[]> {
  const batch = new PacketBatch({ capacity: 64, byteCapacity: 64 * 2048 + 65_536 });
  const from: Endpoint[] = [];
  const got: number[] = [];
  const deadline = Date.now() + 2000;
  while (got.length < count && Date.now() < deadline) {
    const n = await Promise.race([bind.recvMany(batch, from), new Promise<number>((r) => setTimeout(() => r(0), 200))]);
    for (let i = 0; i < n; i++) got.push(batch.packet(i)[0] as number);
  }
  return got;
}

for (const backend of backends) {
  describe(`${backend.name}: bad endpoints`, { skip: backend.skip }, () => {
    it('refuses each bad endpoint alone, counted; the rest of the batch goes out', async () => {
      const a = await backend.open();
      const b = await backend.open();
      try {
        const good = { address: '127.0.0.1', port: b.port };
        const to: Endpoint[] = [
          good,
          { address: '127.0.0.1', port: 0 },
          good,
          { address: '2001:db8::1', port: b.port }, // IPv6 from an IPv4-only socket
          { address: 'not-an-address', port: b.port }, // never resolved, never sent
          good,
          good,
          good,
        ];
        assert.equal(a.sendMany(datagrams(to.length), to), to.length, 'every datagram taken, none thrown');
        assert.equal(a.stats().txBadEndpoint, 3);
        assert.equal(a.stats().txErrors, 0);
        assert.deepEqual((await receive(b, 5)).sort(), [0, 2, 5, 6, 7]);
        const messages = a.stats().txMessages;
        if (messages !== undefined) {
          // Native: ten equal datagrams to one peer still leave as one GSO message.
          assert.equal(a.sendMany(datagrams(10), good), 10);
          assert.equal((a.stats().txMessages as number) - messages, 1, 'GSO still on');
          assert.equal((await receive(b, 10)).length, 10);
        }
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('a run of bad endpoints takes no send slot: the bind still takes a full queue after', async () => {
      const a = await backend.open(4);
      const b = await backend.open();
      try {
        const bad = { address: '127.0.0.1', port: 0 };
        for (let round = 0; round < 5; round++) assert.equal(a.sendMany(datagrams(4), bad), 4);
        assert.equal(a.stats().txBadEndpoint, 20);
        await a.sendReady();
        assert.equal(a.sendMany(datagrams(4), { address: '127.0.0.1', port: b.port }), 4);
        assert.equal((await receive(b, 4)).length, 4);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

const havePython = spawnSync('python3', ['-c', 'import socket']).status === 0;

/** Sends one UDP datagram (`first` then 31 zero bytes) from source port `sourcePort` to 127.0.0.1:`port` through a raw socket. */
function sendRaw(sourcePort: number, port: number, first: number): void {
  const script = [
    'import socket, struct, sys',
    's = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)',
    'sp, dp, first = (int(a) for a in sys.argv[1:4])',
    'payload = bytes([first]) + bytes(31)',
    "s.sendto(struct.pack('!HHHH', sp, dp, 8 + len(payload), 0) + payload, ('127.0.0.1', 0))",
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, String(sourcePort), String(port), String(first)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`raw send failed: ${r.stderr}`);
}

describe(
  'source port 0 (raw socket, loopback)',
  privilegedSuite('a raw socket', havePython ? undefined : 'python3 is not installed'),
  () => {
    for (const backend of backends) {
      it(`${backend.name}: a datagram from port 0 is dropped and counted; the next one arrives`, {
        skip: backend.skip,
      }, async () => {
        const b = await backend.open();
        try {
          sendRaw(0, b.port, 1);
          sendRaw(4000, b.port, 2);
          assert.deepEqual(await receive(b, 1), [2]);
          assert.equal(b.stats().rxBadSource, 1);
        } finally {
          await b.close();
        }
      });
    }
  },
);

describe('UAPI: an endpoint with port 0', () => {
  it('is refused with EINVAL, and the peer keeps its endpoint', async () => {
    const [tun] = MemoryTun.pair({ mtu: 1420 });
    const bind = new MemoryNetwork().bind('10.0.0.1', 51820);
    const device = new Device({ tun, bind, privateKey: generatePrivateKey(), log: () => {} });
    try {
      const key = keyToHex(publicKeyFrom(generatePrivateKey()));
      await device.uapiSet(`public_key=${key}\nendpoint=192.0.2.1:51820\n`);
      for (const endpoint of ['192.0.2.1:0', '[2001:db8::1]:0']) {
        await assert.rejects(
          device.uapiSet(`public_key=${key}\nendpoint=${endpoint}\n`),
          (e: UapiError) => e instanceof UapiError && e.errno === EINVAL && /port 0/.test(e.message),
        );
      }
      assert.match(device.uapiGet(), /endpoint=192\.0\.2\.1:51820\n/);
    } finally {
      await device.close();
    }
  });
});
