import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TunPacketError } from './errors.js';
import {
  checkPacket,
  flowHash,
  formatIpAddress,
  IPPROTO_UDP,
  ipDestination,
  ipHeaderLength,
  ipProtocol,
  ipSource,
  ipTotalLength,
  ipVersion,
  transportInfo,
} from './ip.js';
import { buildUdpPacket, internetChecksum } from './packet-builder.js';
import { sequencePayload } from './testing/packets.js';

const v4 = (a: number, b: number, c: number, d: number) => Uint8Array.of(a, b, c, d);
const v6 = (last: number) => Uint8Array.of(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last);

function udp(src: Uint8Array, dst: Uint8Array, sp: number, dp: number, size = 20) {
  return buildUdpPacket({
    source: src,
    destination: dst,
    sourcePort: sp,
    destinationPort: dp,
    payload: sequencePayload(1, size),
  });
}

describe('IP helpers', () => {
  it('read IPv4 header fields', () => {
    const p = udp(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 1234, 53);
    assert.equal(ipVersion(p), 4);
    assert.equal(ipHeaderLength(p), 20);
    assert.equal(ipTotalLength(p), p.length);
    assert.equal(ipProtocol(p), IPPROTO_UDP);
    assert.equal(formatIpAddress(ipSource(p) as Uint8Array), '10.0.0.1');
    assert.equal(formatIpAddress(ipDestination(p) as Uint8Array), '10.0.0.2');
    assert.equal(internetChecksum(p, 0, 20), 0, 'IPv4 header checksum verifies');
  });

  it('read IPv6 header fields and walk extension headers', () => {
    const p = udp(v6(1), v6(2), 1234, 53);
    assert.equal(ipVersion(p), 6);
    assert.equal(ipTotalLength(p), p.length);
    assert.equal(ipProtocol(p), IPPROTO_UDP);
    assert.equal(formatIpAddress(ipSource(p) as Uint8Array), 'fd00::1');
    // Insert a hop-by-hop header (8 bytes) before UDP.
    const withExt = new Uint8Array(p.length + 8);
    withExt.set(p.subarray(0, 40));
    withExt[6] = 0; // next header: hop-by-hop
    withExt[40] = IPPROTO_UDP;
    withExt[41] = 0; // (0 + 1) * 8 bytes
    withExt.set(p.subarray(40), 48);
    assert.deepEqual(transportInfo(withExt), { protocol: IPPROTO_UDP, offset: 48, nonFirstFragment: false });
    assert.equal(transportInfo(withExt.subarray(0, 44)), undefined, 'truncated extension header');
  });

  it('format IPv6 addresses per RFC 5952', () => {
    assert.equal(formatIpAddress(new Uint8Array(16)), '::');
    assert.equal(
      formatIpAddress(Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1)),
      '2001:db8::1:0:0:1',
    );
    assert.throws(() => formatIpAddress(new Uint8Array(5)), TunPacketError);
  });

  it('flowHash is the same in both directions and differs between flows', () => {
    const a = udp(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 1000, 2000);
    const b = udp(v4(10, 0, 0, 2), v4(10, 0, 0, 1), 2000, 1000);
    assert.equal(flowHash(a), flowHash(b));
    const hashes = new Set<number | undefined>();
    for (let port = 0; port < 64; port++)
      hashes.add(flowHash(udp(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 1000 + port, 2000)));
    assert.ok(hashes.size >= 60, `only ${hashes.size} distinct hashes for 64 flows`);
    const c = udp(v6(1), v6(2), 5, 6);
    const d = udp(v6(2), v6(1), 6, 5);
    assert.equal(flowHash(c), flowHash(d));
  });

  it('checkPacket refuses empty, oversize and non-IP packets with typed errors', () => {
    const p = udp(v4(1, 2, 3, 4), v4(5, 6, 7, 8), 1, 2);
    assert.equal(checkPacket(p, 1500), 4);
    assert.throws(() => checkPacket(new Uint8Array(0), 1500), { code: 'ERR_TUN_PACKET_SIZE' });
    assert.throws(() => checkPacket(p, p.length - 1), /MTU is/);
    assert.throws(() => checkPacket(Uint8Array.of(0x00, 1, 2), 1500), { code: 'ERR_TUN_PACKET_VERSION' });
    assert.throws(() => checkPacket('x' as unknown as Uint8Array, 1500), { code: 'ERR_TUN_PACKET_TYPE' });
  });

  it('property: malformed bytes never throw or read out of bounds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(0x45, 0x46, 0x4f, 0x60, 0x00), (bytes, first) => {
        const p = bytes.length > 0 ? Uint8Array.from([first, ...bytes.subarray(1)]) : bytes;
        const results = [
          ipVersion(p),
          ipHeaderLength(p),
          ipTotalLength(p),
          ipProtocol(p),
          flowHash(p),
          transportInfo(p),
        ];
        const src = ipSource(p);
        if (src !== undefined) assert.ok(src.length === 4 || src.length === 16);
        const total = ipTotalLength(p);
        if (total !== undefined) assert.ok(total <= p.length);
        const info = transportInfo(p);
        if (info !== undefined) assert.ok(info.offset <= p.length);
        return results.length === 6;
      }),
      { numRuns: 5000 },
    );
  });
});
