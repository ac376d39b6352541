import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cidrNetwork, parseCidr } from '@tunkit/tun-core';
import { sequencePacket } from '@tunkit/tun-core/testing';
import fc from 'fast-check';
import { AllowedIps } from './allowed-ips.js';

function contains(prefix: string, address: Uint8Array): boolean {
  const cidr = parseCidr(prefix);
  if (cidr.address.length !== address.length) return false;
  const net = cidrNetwork(cidr).address;
  const masked = cidrNetwork({ ...cidr, address }).address;
  return net.every((b, i) => b === masked[i]);
}

describe('AllowedIps', () => {
  it('picks the longest prefix, for IPv4 and IPv6, and moves a prefix to its new peer', () => {
    const t = new AllowedIps<string>();
    t.insert('0.0.0.0/0', 'default');
    t.insert('10.0.0.0/8', 'a');
    t.insert('10.1.0.0/16', 'b');
    t.insert('fd00::/8', 'v6');
    assert.equal(t.lookup(Uint8Array.of(10, 1, 2, 3)), 'b');
    assert.equal(t.lookup(Uint8Array.of(10, 2, 2, 3)), 'a');
    assert.equal(t.lookup(Uint8Array.of(192, 168, 0, 1)), 'default');
    assert.equal(t.lookup(parseCidr('fd00::1').address), 'v6');
    assert.equal(t.lookup(parseCidr('2001::1').address), undefined);
    t.insert('10.1.0.0/16', 'c');
    assert.equal(t.lookup(Uint8Array.of(10, 1, 0, 1)), 'c');
    assert.deepEqual(t.prefixesOf('c'), ['10.1.0.0/16']);
    t.removeValue('a');
    assert.equal(t.lookup(Uint8Array.of(10, 2, 2, 3)), 'default');
    assert.equal(t.lookupPacket(sequencePacket(1, 64, [1, 1, 1, 1], [10, 1, 9, 9]), 'destination'), 'c');
    assert.equal(t.lookupPacket(new Uint8Array(3), 'source'), undefined);
  });

  it('property: agrees with a linear longest-prefix scan', () => {
    const prefix = fc.tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 32 }),
    );
    fc.assert(
      fc.property(
        fc.array(prefix, { maxLength: 30 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }),
        (prefixes, probes) => {
          const t = new AllowedIps<number>();
          const list: { text: string; value: number; length: number }[] = [];
          prefixes.forEach(([a, b, length], value) => {
            const text = `${a}.${b}.0.0/${length}`;
            t.insert(text, value);
            const existing = list.findIndex(
              (p) =>
                cidrNetwork(parseCidr(p.text)).address.join() === cidrNetwork(parseCidr(text)).address.join() &&
                p.length === length,
            );
            if (existing >= 0) list.splice(existing, 1);
            list.push({ text, value, length });
          });
          for (const [a, b] of probes) {
            const address = Uint8Array.of(a, b, 1, 1);
            const best = list.filter((p) => contains(p.text, address)).sort((x, y) => y.length - x.length)[0];
            assert.equal(t.lookup(address), best?.value);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('lists and removes one value’s prefixes, IPv4 and IPv6; a moved prefix leaves its old value', () => {
    const t = new AllowedIps<string>();
    t.insert('10.0.0.1/32', 'a');
    t.insert('fd00::1/128', 'a');
    t.insert('10.0.0.0/24', 'b');
    t.insert('fd00::/64', 'b');
    t.insert('10.0.0.2/32', 'c');
    assert.deepEqual(t.prefixesOf('a'), ['10.0.0.1/32', 'fd00::1/128']);
    assert.deepEqual(t.prefixesOf('b'), ['10.0.0.0/24', 'fd00::/64']);
    t.insert('10.0.0.0/24', 'c'); // moves from b to c
    assert.deepEqual(t.prefixesOf('b'), ['fd00::/64']);
    assert.deepEqual(t.prefixesOf('c'), ['10.0.0.2/32', '10.0.0.0/24']);
    t.removeValue('a');
    assert.deepEqual(t.prefixesOf('a'), []);
    assert.equal(t.lookup(parseCidr('10.0.0.1').address), 'c', 'the covering /24 answers once the /32 is gone');
    assert.equal(t.lookup(parseCidr('fd00::1').address), 'b');
    t.removeValue('b');
    assert.equal(t.lookup(parseCidr('fd00::1').address), undefined);
    t.removeValue('c');
    assert.equal(t.lookup(parseCidr('10.0.0.2').address), undefined);
    t.insert('0.0.0.0/0', 'default');
    t.insert('::/0', 'default');
    assert.equal(t.lookup(parseCidr('10.0.0.2').address), 'default');
    assert.equal(t.lookup(parseCidr('2001:db8::1').address), 'default');
    assert.equal(t.prefixCount('default'), 2);
  });

  it('property: inserts and removals agree with a linear longest-prefix model, IPv4 and IPv6', () => {
    const v4 = fc
      .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 32 }))
      .map(([a, b, length]) => `10.${a}.${b}.${(a * 37 + b) & 255}/${length}`);
    const v6 = fc
      .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 128 }))
      .map(([a, b, length]) => `fd00:${a}::${b.toString(16)}:${((b * 7) & 0xffff).toString(16)}/${length}`);
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('insert' as const),
        prefix: fc.oneof(v4, v6),
        value: fc.integer({ min: 0, max: 5 }),
      }),
      fc.record({ kind: fc.constant('remove' as const), value: fc.integer({ min: 0, max: 5 }) }),
    );
    const probe = fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }))
        .map(([a, b]) => `10.${a}.${b}.${(a * 37 + b) & 255}`),
      fc
        .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffff }))
        .map(([a, b]) => `fd00:${a}::${b.toString(16)}:${((b * 7) & 0xffff).toString(16)}`),
      fc.constant('10.3.3.3'),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(probe, { maxLength: 20 }), (ops, probes) => {
        const t = new AllowedIps<number>();
        let model: { key: string; text: string; value: number; length: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'remove') {
            t.removeValue(o.value);
            model = model.filter((p) => p.value !== o.value);
            continue;
          }
          t.insert(o.prefix, o.value);
          const cidr = cidrNetwork(parseCidr(o.prefix));
          const key = `${cidr.address.join('.')}/${cidr.prefix}`;
          model = model.filter((p) => p.key !== key);
          model.push({ key, text: o.prefix, value: o.value, length: cidr.prefix });
        }
        // The inserted addresses themselves, beside the random probes: every node gets visited.
        const inserted = ops.flatMap((o) => (o.kind === 'insert' ? [o.prefix.split('/')[0] as string] : []));
        for (const text of [...probes, ...inserted]) {
          const address = parseCidr(text).address;
          const best = model.filter((p) => contains(p.text, address)).sort((x, y) => y.length - x.length)[0];
          assert.equal(t.lookup(address), best?.value, text);
        }
        for (let value = 0; value <= 5; value++) {
          const mine = model.filter((p) => p.value === value).map((p) => p.key);
          const listed = t.prefixesOf(value).map((text) => {
            const c = parseCidr(text);
            return `${c.address.join('.')}/${c.prefix}`;
          });
          assert.deepEqual([...listed].sort(), [...mine].sort(), `prefixes of ${value}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('lookupAt reads a packet in place inside a larger buffer, IPv4 and IPv6, and agrees with lookup', () => {
    const t = new AllowedIps<string>();
    t.insert('10.1.0.0/16', 'v4');
    t.insert('fd00::/64', 'v6');
    t.insert('fd00::/8', 'v6-wide');
    const v4 = sequencePacket(1, 64, [10, 1, 2, 3], [10, 2, 0, 1]);
    const v6 = new Uint8Array(60);
    v6[0] = 0x60;
    v6[5] = 20; // payload length
    v6.set(parseCidr('fd00::7').address, 8); // source
    v6.set(parseCidr('fd12::9').address, 24); // destination
    const buffer = new Uint8Array(300).fill(0xff);
    buffer.set(v4, 17);
    buffer.set(v6, 130);
    assert.equal(t.lookupAt(buffer, 17, v4.length, 'source'), 'v4');
    assert.equal(t.lookupAt(buffer, 17, v4.length, 'destination'), undefined);
    assert.equal(t.lookupAt(buffer, 130, v6.length, 'source'), 'v6');
    assert.equal(t.lookupAt(buffer, 130, v6.length, 'destination'), 'v6-wide');
    assert.equal(t.lookupAt(buffer, 130, 39, 'source'), undefined, 'too short for an IPv6 header');
    assert.equal(t.lookupAt(buffer, 0, 64, 'source'), undefined, 'not an IP packet');
    assert.equal(t.lookupPacket(v6, 'source'), t.lookup(parseCidr('fd00::7').address));
  });
});
