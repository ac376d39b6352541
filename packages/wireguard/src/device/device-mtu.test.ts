// The UDP datagram size follows the MTU: openBind({ mtu }) opens a Bind that carries a sealed
// MTU-sized packet (datagramSizeFor(mtu) = MTU + 32), and a Device refuses, naming both numbers,
// a Bind that cannot, or an MTU no UDP datagram can carry once sealed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryTun, PacketBatch, type TunConfigError } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import { MemoryNetwork } from '../bind/memory-bind.js';
import { openBind } from '../bind/open-bind.js';
import { datagramSizeFor, MAX_TUNNEL_MTU } from '../protocol/constants.js';
import { generatePrivateKey } from '../protocol/keys.js';
import { Device } from './device.js';

describe('Device and Bind: the datagram size follows the MTU', () => {
  it('refuses a Bind that cannot carry its MTU, and an MTU past one UDP datagram', async () => {
    const network = new MemoryNetwork();
    const small = await openBind({ address: '127.0.0.1', maxDatagram: 2048 });
    try {
      const [tun] = MemoryTun.pair({ mtu: 9000 });
      assert.throws(
        () => new Device({ tun, bind: small, privateKey: generatePrivateKey() }),
        (e: TunConfigError) =>
          e.code === 'ERR_DEVICE_MTU' &&
          e.message.includes('MTU 9000 needs UDP datagrams of 9032 bytes') &&
          e.message.includes('at most 2048'),
      );
      const [huge] = MemoryTun.pair({ mtu: MAX_TUNNEL_MTU + 1 });
      assert.throws(
        () => new Device({ tun: huge, bind: network.bind('10.0.0.1', 1), privateKey: generatePrivateKey() }),
        (e: TunConfigError) => e.code === 'ERR_DEVICE_MTU' && e.message.includes(`at most ${MAX_TUNNEL_MTU}`),
      );
    } finally {
      await small.close();
    }
  });

  for (const backend of ['native', 'dgram'] as const) {
    it(`openBind({ mtu: 9000, backend: '${backend}' }) carries a sealed 9000-byte packet`, async () => {
      const a = await openBind({ address: '127.0.0.1', mtu: 9000, backend });
      const b = await openBind({ address: '127.0.0.1', mtu: 9000, backend });
      try {
        assert.ok((a.maxDatagram ?? 0) >= datagramSizeFor(9000));
        const [tun] = MemoryTun.pair({ mtu: 9000 });
        const device = new Device({ tun, bind: a, privateKey: generatePrivateKey() }); // accepted
        const datagram = new PacketBatch({ capacity: 1, byteCapacity: 10_000 });
        datagram.push(new Uint8Array(datagramSizeFor(9000)).fill(7));
        assert.equal(a.sendMany(datagram, { address: '127.0.0.1', port: b.port }), 1);
        const into = new PacketBatch({ capacity: 8, byteCapacity: 8 * 10_000 + 65_536 });
        const from: Endpoint[] = [];
        assert.equal(await b.recvMany(into, from), 1);
        assert.equal(into.packet(0).length, 9032);
        assert.equal(b.stats().rxDropped, 0);
        await device.close();
      } finally {
        await a.close();
        await b.close();
      }
    });
  }
});
