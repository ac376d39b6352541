// The offload codecs (native/offload.cc) checked against an independent TypeScript parser: TCP and
// UDP over IPv4 and IPv6 coalesce into one super-packet and split back byte for byte, with every
// checksum verified here; runs stop where the kernel's GRO would; malformed frames never crash.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { native } from './native.js';

const HEADER = 10;

function sum16(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  if (bytes.length % 2) sum += (bytes[bytes.length - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function pseudo(packet: Uint8Array, v6: boolean, protocol: number, l4Length: number): number {
  const addresses = v6 ? packet.subarray(8, 40) : packet.subarray(12, 20);
  return sum16(addresses) + protocol + Math.floor(l4Length / 0x10000) + (l4Length & 0xffff);
}

/** True when the IPv4 header checksum (if any) and the TCP/UDP checksum verify. */
function checksumsValid(packet: Uint8Array): boolean {
  const v6 = (packet[0] as number) >> 4 === 6;
  const ip = v6 ? 40 : ((packet[0] as number) & 15) * 4;
  if (!v6 && sum16(packet.subarray(0, ip)) !== 0xffff) return false;
  const protocol = v6 ? (packet[6] as number) : (packet[9] as number);
  const l4 = packet.subarray(ip);
  return sum16(l4, pseudo(packet, v6, protocol, l4.length)) === 0xffff;
}

interface Spec {
  v6?: boolean;
  udp?: boolean;
  seq?: number;
  id?: number;
  payload: number;
  flags?: number;
  ports?: [number, number];
  options?: number[];
  fill?: number;
}

/** A TCP (ACK) or UDP packet with valid checksums. */
function packet(spec: Spec): Uint8Array {
  const v6 = spec.v6 ?? false;
  const ip = v6 ? 40 : 20;
  const options = spec.options ?? [];
  const l4Header = spec.udp ? 8 : 20 + options.length;
  const total = ip + l4Header + spec.payload;
  const p = new Uint8Array(total);
  const view = new DataView(p.buffer);
  if (v6) {
    p[0] = 0x60;
    view.setUint16(4, total - 40);
    p[6] = spec.udp ? 17 : 6;
    p[7] = 64;
    p.set([0xfd, 0x42, ...new Array(13).fill(0), 1], 8);
    p.set([0xfd, 0x42, ...new Array(13).fill(0), 2], 24);
  } else {
    p[0] = 0x45;
    view.setUint16(2, total);
    view.setUint16(4, spec.id ?? 100);
    view.setUint16(6, 0x4000); // DF
    p[8] = 64;
    p[9] = spec.udp ? 17 : 6;
    p.set([10, 42, 0, 1, 10, 42, 0, 2], 12);
    view.setUint16(10, ~sum16(p.subarray(0, 20)) & 0xffff);
  }
  const [sport, dport] = spec.ports ?? [40000, 5201];
  view.setUint16(ip, sport);
  view.setUint16(ip + 2, dport);
  if (spec.udp) {
    view.setUint16(ip + 4, total - ip);
  } else {
    view.setUint32(ip + 4, spec.seq ?? 1000);
    view.setUint32(ip + 8, 777);
    p[ip + 12] = ((20 + options.length) / 4) << 4;
    p[ip + 13] = spec.flags ?? 0x10;
    view.setUint16(ip + 14, 512);
    p.set(options, ip + 20);
  }
  p.fill(spec.fill ?? 0x5a, ip + l4Header);
  for (let i = ip + l4Header; i < total; i++) p[i] = (i * 7 + (spec.seq ?? 0)) & 0xff;
  const at = ip + (spec.udp ? 6 : 16);
  let checksum = ~sum16(p.subarray(ip), pseudo(p, v6, spec.udp ? 17 : 6, total - ip)) & 0xffff;
  if (spec.udp && checksum === 0) checksum = 0xffff;
  view.setUint16(at, checksum);
  return p;
}

/** Consecutive TCP segments (sizes given), or UDP datagrams, of one flow. */
function flow(sizes: number[], base: Omit<Spec, 'payload'> = {}): Uint8Array[] {
  let seq = base.seq ?? 5000;
  return sizes.map((payload, i) => {
    const p = packet({ ...base, payload, seq, id: (base.id ?? 100) + i });
    seq += payload;
    return p;
  });
}

const coalesce = (packets: Uint8Array[], udp = false) => native().coalesceRun(packets, udp);
const split = (frame: Uint8Array) => native().splitFrame(frame);

describe('offload codecs', () => {
  for (const v6 of [false, true]) {
    for (const udp of [false, true]) {
      const name = `${udp ? 'UDP' : 'TCP'} over IPv${v6 ? 6 : 4}`;
      it(`${name}: a run becomes one super-packet and splits back byte for byte`, () => {
        const sizes = [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 480];
        const packets = flow(sizes, { v6, udp });
        for (const p of packets) assert.ok(checksumsValid(p), 'the test packets are valid');
        const [frame, taken] = coalesce(packets, udp);
        assert.equal(taken, 10);
        assert.equal(frame[1], udp ? 5 : v6 ? 4 : 1, 'gso type');
        assert.equal(frame[0], 1, 'NEEDS_CSUM');
        const header = new DataView(frame.buffer, frame.byteOffset, HEADER);
        assert.equal(header.getUint16(4, true), 1000, 'gso size');
        assert.equal(frame.length, HEADER + (v6 ? 40 : 20) + (udp ? 8 : 20) + 9480);
        const back = split(frame);
        assert.ok(back);
        assert.equal(back.length, 10);
        back.forEach((p, i) => {
          assert.ok(checksumsValid(p), `segment ${i} checksums`);
          assert.deepEqual(Buffer.from(p), Buffer.from(packets[i] as Uint8Array), `segment ${i}`);
        });
      });
    }
  }

  it('ends a run at PSH, a short segment, a sequence gap, another flow or different options', () => {
    const psh = flow([1000, 1000, 1000, 1000]);
    const withPsh = packet({ payload: 1000, seq: 6000, id: 101, flags: 0x18 });
    assert.equal(coalesce([psh[0] as Uint8Array, withPsh, psh[2] as Uint8Array])[1], 2, 'PSH ends the run, included');
    const short = flow([1000, 600, 1000]);
    assert.equal(coalesce(short)[1], 2, 'a short segment ends the run, included');
    const gap = flow([1000, 1000]);
    gap.push(packet({ payload: 1000, seq: 9000 }));
    assert.equal(coalesce(gap)[1], 2, 'out of order');
    const mixed = [...flow([1000]), ...flow([1000], { seq: 6000, ports: [40001, 5201] })];
    assert.equal(coalesce(mixed)[1], 1, 'another flow');
    const options = [
      ...flow([1000], { options: [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2] }),
      ...flow([1000], { seq: 6000, options: [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 2] }),
    ];
    assert.equal(coalesce(options)[1], 1, 'different TCP options (timestamps)');
    const pureAck = flow([0, 0]);
    assert.equal(coalesce(pureAck)[1], 1, 'no payload, no run');
    assert.equal(coalesce(flow([1000, 1000], { udp: true }), false)[1], 1, 'UDP only when USO is on');
    assert.equal(coalesce(flow(new Array(100).fill(1400)))[1], 46, 'at most 64 KiB');
    const [single] = coalesce(pureAck);
    assert.deepEqual(
      [...single.subarray(0, HEADER)],
      new Array(HEADER).fill(0),
      'a single packet gets an empty header',
    );
  });

  it('completes a partial checksum (NEEDS_CSUM without GSO)', () => {
    const p = packet({ payload: 300 });
    const frame = new Uint8Array(HEADER + p.length);
    frame.set(p, HEADER);
    const view = new DataView(frame.buffer);
    frame[0] = 1;
    view.setUint16(6, 20, true);
    view.setUint16(8, 16, true);
    view.setUint16(HEADER + 36, pseudo(p, false, 6, p.length - 20)); // what the kernel leaves there
    const [out] = split(frame) ?? [];
    assert.ok(out && checksumsValid(out));
    assert.deepEqual(Buffer.from(out), Buffer.from(p));
  });

  it('refuses malformed frames without crashing: 20,000 mutated and random ones', () => {
    const good = coalesce(flow(new Array(8).fill(1200)))[0];
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const frame = i % 4 === 0 ? randomBytes(Math.floor(Math.random() * 200)) : Buffer.from(good);
      if (i % 4 !== 0)
        for (let k = 0; k < 1 + (i % 5); k++)
          frame[Math.floor(Math.random() * Math.min(frame.length, 80))] = Math.floor(Math.random() * 256);
      const out = split(frame);
      if (out === null) refused++;
      else for (const p of out) assert.ok(p.length <= 65535);
    }
    assert.ok(refused > 0);
  });
});
