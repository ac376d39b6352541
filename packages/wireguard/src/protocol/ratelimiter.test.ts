// The per-source token bucket on a fake clock: wireguard-go's numbers (20/s, burst 5), IPv6 by
// /64, and its memory bound (idle entries go, a full table refuses new sources).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpAddress } from '@tunkit/tun-core';
import { RateLimiter } from './ratelimiter.js';

const ip = parseIpAddress;

describe('RateLimiter', () => {
  it('allows a burst of 5 at once, then 20 per second', () => {
    const r = new RateLimiter();
    const a = ip('192.0.2.1');
    const burst = Array.from({ length: 7 }, () => r.allow(a, 1000));
    assert.deepEqual(burst, ['allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'limited', 'limited']);
    assert.equal(r.allow(a, 1049), 'limited', 'a token takes 50 ms');
    assert.equal(r.allow(a, 1050), 'allowed');
    assert.equal(r.allow(a, 1050), 'limited');
    // Over a second of steady sending, 20 get through.
    let allowed = 0;
    for (let t = 1051; t <= 2050; t++) if (r.allow(a, t) === 'allowed') allowed++;
    assert.equal(allowed, 20);
    // Idle for long: the bucket holds a burst again, never more.
    const after = Array.from({ length: 6 }, () => r.allow(a, 60_000));
    assert.equal(after.filter((d) => d === 'allowed').length, 5);
  });

  it('keeps sources apart; IPv6 by /64, an IPv4-mapped address as its IPv4 address', () => {
    const r = new RateLimiter({ burst: 1 });
    assert.equal(r.allow(ip('192.0.2.1'), 0), 'allowed');
    assert.equal(r.allow(ip('192.0.2.1'), 0), 'limited');
    assert.equal(r.allow(ip('192.0.2.2'), 0), 'allowed', 'another address has its own bucket');
    assert.equal(r.allow(ip('::ffff:192.0.2.2'), 0), 'limited', 'the same address written as IPv6');
    assert.equal(r.allow(ip('2001:db8:1:2::1'), 0), 'allowed');
    assert.equal(r.allow(ip('2001:db8:1:2:ffff::9'), 0), 'limited', 'same /64');
    assert.equal(r.allow(ip('2001:db8:1:3::1'), 0), 'allowed', 'another /64');
  });

  it('forgets sources idle for a second, and refuses new sources while the table is full', () => {
    const r = new RateLimiter({ capacity: 3 });
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.equal(r.allow(ip(address), 0), 'allowed');
    assert.equal(r.allow(ip('10.0.0.4'), 10), 'table-full');
    assert.equal(r.allow(ip('10.0.0.1'), 10), 'allowed', 'a tracked source still counts');
    assert.equal(r.size, 3);
    // At 1,005 ms: 10.0.0.2 and .3 have been idle a second and go; 10.0.0.1 (seen at 10) stays.
    assert.equal(r.allow(ip('10.0.0.4'), 1005), 'allowed');
    assert.equal(r.size, 2);
    assert.equal(r.allow(ip('10.0.0.5'), 1006), 'allowed');
    assert.equal(r.allow(ip('10.0.0.6'), 1007), 'table-full');
  });
});
