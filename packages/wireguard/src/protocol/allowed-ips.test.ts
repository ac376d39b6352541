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
