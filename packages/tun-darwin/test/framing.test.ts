// The Darwin framing over the shared fd-readiness loop, with a socketpair standing in for utun:
// the 4-byte big-endian family header (2 for IPv4, Darwin's 30 for IPv6) is added on write and
// stripped on read, and datagrams that are not framed packets are dropped and counted.

import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { buildUdpPacket, PacketBatch } from '@tunkit/tun-core';
import { sequencePacket } from '@tunkit/tun-core/testing';
import { type DarwinTun, fromFd } from '../src/index.js';
import { DARWIN_AF_INET, DARWIN_AF_INET6, frame, SocketPeer } from './socket-peer.js';

function ipv6Packet(payload: number): Uint8Array {
  const source = new Uint8Array(16);
  source.set([0xfd, 0x00], 0);
  source[15] = 1;
  const destination = source.slice();
  destination[15] = 2;
  return buildUdpPacket({
    source,
    destination,
    sourcePort: 4000,
    destinationPort: 4001,
    payload: new Uint8Array(32).fill(payload),
  });
}

const open: { tun?: DarwinTun; peer?: SocketPeer }[] = [];

function openPair(): { tun: DarwinTun; peer: SocketPeer } {
  const { deviceFd, peer } = SocketPeer.open();
  const tun = fromFd(deviceFd, { name: 'utun-test', mtu: 1420 });
  closeSync(deviceFd); // fromFd works on its own duplicate, as with a Network Extension's fd
  open.push({ tun, peer });
  return { tun, peer };
}

describe('DarwinTun framing over a socketpair', { timeout: 15_000 }, () => {
  afterEach(async () => {
    for (const { tun, peer } of open.splice(0)) {
      await tun?.close();
      await peer?.close();
    }
  });

  it('adds the family header on write: 2 before IPv4, 30 before IPv6, the packet unchanged after it', async () => {
    const { tun, peer } = openPair();
    peer.startReading();
    const v4 = sequencePacket(1, 200);
    const v6 = ipv6Packet(7);
    assert.ok(tun.send(v4));
    assert.ok(tun.send(v6));
    const batch = new PacketBatch();
    batch.push(sequencePacket(2, 300));
    batch.push(ipv6Packet(8));
    assert.equal(tun.sendMany(batch), 2);
    const frames = await peer.waitForFrames(4);
    assert.deepEqual(frames, [
      frame(DARWIN_AF_INET, v4),
      frame(DARWIN_AF_INET6, v6),
      frame(DARWIN_AF_INET, batch.packet(0)),
      frame(DARWIN_AF_INET6, batch.packet(1)),
    ]);
    const stats = tun.stats();
    assert.equal(stats.txPackets, 4);
    assert.equal(stats.txBytes, v4.length + v6.length + batch.packet(0).length + batch.packet(1).length);
  });

  it('strips the family header on read, for IPv4 and IPv6, straight into the batch', async () => {
    const { tun, peer } = openPair();
    const v4 = sequencePacket(3, 120);
    const v6 = ipv6Packet(9);
    await peer.write(frame(DARWIN_AF_INET, v4));
    await peer.write(frame(DARWIN_AF_INET6, v6));
    const batch = new PacketBatch({ headroom: 16 });
    const n = await tun.recvMany(batch);
    assert.equal(n, 2);
    assert.deepEqual(batch.packet(0), v4);
    assert.deepEqual(batch.packet(1), v6);
    assert.equal(tun.stats().rxBytes, v4.length + v6.length);
  });

  it('drops and counts an unknown family (Linux AF_INET6 10 included), a datagram shorter than the header and one over the MTU', async () => {
    const { tun, peer } = openPair();
    await peer.write(frame(10, ipv6Packet(1))); // Linux's AF_INET6: not Darwin's
    await peer.write(frame(99, sequencePacket(4, 100)));
    await peer.write(new Uint8Array([0, 0, 2]));
    await peer.write(new Uint8Array([0, 0, 0, 2])); // a header and no packet
    const big = new Uint8Array(1500);
    big[0] = 0x45;
    await peer.write(frame(DARWIN_AF_INET, big));
    const good = sequencePacket(5, 100);
    await peer.write(frame(DARWIN_AF_INET, good));
    const batch = new PacketBatch();
    assert.equal(await tun.recvMany(batch), 1);
    assert.deepEqual(batch.packet(0), good);
    const stats = tun.stats();
    assert.equal(stats.rxDropped, 5);
    assert.equal(stats.rxInvalid, 5);
    assert.equal(stats.rxPackets, 1);
  });

  it('a pending recvMany is woken by readiness, and packets keep their order across batches', async () => {
    const { tun, peer } = openPair();
    const batch = new PacketBatch({ capacity: 4 });
    const pending = tun.recvMany(batch);
    for (let i = 0; i < 6; i++) await peer.write(frame(DARWIN_AF_INET, sequencePacket(i, 100)));
    const seen: Uint8Array[] = [];
    let n = await pending;
    for (;;) {
      for (let i = 0; i < n; i++) seen.push(batch.packet(i).slice());
      if (seen.length >= 6) break;
      n = await tun.recvMany(batch);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 6 }, (_, i) => sequencePacket(i, 100)),
    );
  });
});
