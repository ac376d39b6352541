// The offload codecs (native/offload.cc, through the test addon) checked against an independent TypeScript parser: TCP and
// UDP over IPv4 and IPv6 coalesce into one super-packet and split back byte for byte, with every
// checksum verified here; runs stop where the kernel's GRO would; malformed frames never crash.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codecAddon } from './codec-addon.js';

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

/** Where the TCP/UDP header starts, and its protocol: IPv4 options and IPv6 hop-by-hop/destination options skipped. */
function transport(packet: Uint8Array): { v6: boolean; at: number; protocol: number } {
  const v6 = (packet[0] as number) >> 4 === 6;
  if (!v6) return { v6, at: ((packet[0] as number) & 15) * 4, protocol: packet[9] as number };
  let at = 40;
  let protocol = packet[6] as number;
  while (protocol === 0 || protocol === 60) {
    protocol = packet[at] as number;
    at += ((packet[at + 1] as number) + 1) * 8;
  }
  return { v6, at, protocol };
}

/** True when the IPv4 header checksum (if any) and the TCP/UDP checksum verify. */
function checksumsValid(packet: Uint8Array): boolean {
  const { v6, at, protocol } = transport(packet);
  if (!v6 && sum16(packet.subarray(0, at)) !== 0xffff) return false;
  const l4 = packet.subarray(at);
  return sum16(l4, pseudo(packet, v6, protocol, l4.length)) === 0xffff;
}

/** A deterministic PRNG (mulberry32), so a failing fuzz case can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `p` with `extra` bytes inserted after its fixed IP header: IPv4 options, or an IPv6 extension header. */
function withIpExtra(p: Uint8Array, extra: number[]): Uint8Array {
  const v6 = (p[0] as number) >> 4 === 6;
  const fixed = v6 ? 40 : 20;
  const out = new Uint8Array(p.length + extra.length);
  out.set(p.subarray(0, fixed));
  out.set(extra, fixed);
  out.set(p.subarray(fixed), fixed + extra.length);
  const view = new DataView(out.buffer);
  if (v6) {
    out[fixed] = out[6] as number; // the extension header's next header is the transport protocol
    out[6] = 0; // hop-by-hop
    view.setUint16(4, out.length - 40);
  } else {
    out[0] = 0x40 | ((fixed + extra.length) / 4);
    view.setUint16(2, out.length);
    view.setUint16(10, 0);
    view.setUint16(10, ~sum16(out.subarray(0, fixed + extra.length)) & 0xffff);
  }
  return out;
}

/** A frame carrying `p` as one super-packet of `gsoSize`-byte segments, as the kernel hands it over (TSO). */
function tsoFrame(p: Uint8Array, gsoSize: number): Uint8Array {
  const { v6, at } = transport(p);
  const frame = new Uint8Array(HEADER + p.length);
  frame.set(p, HEADER);
  const view = new DataView(frame.buffer);
  frame[0] = 1; // NEEDS_CSUM
  frame[1] = v6 ? 4 : 1;
  view.setUint16(2, at + ((p[at + 12] as number) >> 4) * 4, true);
  view.setUint16(4, gsoSize, true);
  view.setUint16(6, at, true);
  view.setUint16(8, 16, true);
  view.setUint16(HEADER + at + 16, fold(pseudo(p, v6, 6, p.length - at)));
  return frame;
}

function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
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

const coalesce = (packets: Uint8Array[], udp = false) => codecAddon().coalesceRun(packets, udp);
const split = (frame: Uint8Array) => codecAddon().splitFrame(frame);

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
        // The partial checksum the kernel completes per segment: the pseudo-header sum over the whole L4 length.
        const superPacket = frame.subarray(HEADER);
        const ip = v6 ? 40 : 20;
        const field = new DataView(frame.buffer, frame.byteOffset).getUint16(HEADER + ip + (udp ? 6 : 16));
        assert.equal(field, fold(pseudo(superPacket, v6, udp ? 17 : 6, superPacket.length - ip)), 'partial checksum');
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

  it('splits TSO flags as the kernel segments them: CWR on the first segment, FIN and PSH on the last', () => {
    const big = packet({ payload: 3000, seq: 70000, flags: 0x80 | 0x10 | 0x08 | 0x01 }); // CWR ACK PSH FIN
    const back = split(tsoFrame(big, 1000));
    assert.ok(back);
    assert.equal(back.length, 3);
    const flagsOf = (p: Uint8Array) => p[20 + 13] as number;
    assert.deepEqual(back.map(flagsOf), [0x90, 0x10, 0x19]);
    back.forEach((p, i) => {
      assert.ok(checksumsValid(p), `segment ${i} checksums`);
      assert.equal(new DataView(p.buffer, p.byteOffset).getUint32(24), 70000 + i * 1000, `segment ${i} sequence`);
      assert.equal(new DataView(p.buffer, p.byteOffset).getUint16(4), 100 + i, `segment ${i} IPv4 ID`);
    });
  });

  it('splits super-packets with IPv4 options and with an IPv6 hop-by-hop header', () => {
    const cases = [
      { name: 'IPv4 options', p: withIpExtra(packet({ payload: 2500 }), [1, 1, 1, 0]), at: 24 },
      {
        name: 'IPv6 hop-by-hop',
        p: withIpExtra(packet({ v6: true, payload: 2500 }), [0, 0, 1, 4, 0, 0, 0, 0]),
        at: 48,
      },
    ];
    for (const { name, p, at } of cases) {
      assert.equal(transport(p).at, at);
      assert.ok(checksumsValid(p), `${name}: the test packet is valid`);
      const back = split(tsoFrame(p, 1000));
      assert.ok(back, `${name}: split`);
      assert.equal(back.length, 3, name);
      let payload = 0;
      for (const [i, segment] of back.entries()) {
        assert.ok(checksumsValid(segment), `${name}: segment ${i} checksums`);
        const fixed = at === 24 ? 20 : 40;
        const addresses = at === 24 ? [12, 20] : [8, 40];
        assert.deepEqual(Buffer.from(segment.subarray(fixed, at)), Buffer.from(p.subarray(fixed, at)), `${name}: kept`);
        assert.deepEqual(Buffer.from(segment.subarray(...addresses)), Buffer.from(p.subarray(...addresses)));
        payload += segment.length - at - 20;
      }
      assert.equal(payload, 2500, `${name}: payload bytes`);
    }
  });

  it('refuses a TSO super-packet whose TCP data offset is below 5', () => {
    const frame = tsoFrame(packet({ payload: 2000 }), 1000);
    frame[HEADER + 20 + 12] = 4 << 4;
    assert.equal(split(frame), null);
  });

  it('completes a zero UDP checksum as 0xffff (0 means no checksum)', () => {
    const p = packet({ udp: true, payload: 10 });
    const view = new DataView(p.buffer);
    // Choose the last two payload bytes so the one's-complement sum is 0xffff: the checksum computes to 0.
    view.setUint16(p.length - 2, 0);
    view.setUint16(26, 0);
    const partial = sum16(p.subarray(20), pseudo(p, false, 17, p.length - 20));
    view.setUint16(p.length - 2, 0xffff - partial);
    const frame = new Uint8Array(HEADER + p.length);
    frame.set(p, HEADER);
    const header = new DataView(frame.buffer);
    frame[0] = 1;
    header.setUint16(6, 20, true);
    header.setUint16(8, 6, true);
    header.setUint16(HEADER + 26, fold(pseudo(p, false, 17, p.length - 20)));
    const [out] = split(frame) ?? [];
    assert.ok(out);
    assert.equal(new DataView(out.buffer, out.byteOffset).getUint16(26), 0xffff);
    assert.ok(checksumsValid(out));
  });

  it('refuses malformed frames without crashing: 20,000 mutated and random ones (seeded)', () => {
    const random = seeded(0x7a11);
    const good = coalesce(flow(new Array(8).fill(1200)))[0];
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const frame =
        i % 4 === 0
          ? Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)))
          : Buffer.from(good);
      if (i % 4 !== 0)
        for (let k = 0; k < 1 + (i % 5); k++)
          frame[Math.floor(random() * Math.min(frame.length, 80))] = Math.floor(random() * 256);
      const out = split(frame);
      if (out === null) refused++;
      else for (const p of out) assert.ok(p.length <= 65535);
    }
    assert.ok(refused > 0);
  });
});
