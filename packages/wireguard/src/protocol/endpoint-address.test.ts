// The cookie source of an endpoint: the IPv4 fast path agrees with the general parser, and what
// does not parse is refused (undefined), never thrown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpAddress } from '@tunkit/tun-core';
import fc from 'fast-check';
import { cookieSource } from './cookie.js';
import { endpointCookieSource } from './endpoint-address.js';

/** What the general parser makes of it (undefined where it refuses). */
function general(address: string, port: number): Uint8Array | undefined {
  try {
    return cookieSource(parseIpAddress(address.split('%')[0] as string), port);
  } catch {
    return undefined;
  }
}

describe('endpointCookieSource', () => {
  it('agrees with the general parser on IPv4 (valid or not), IPv6 and zones', () => {
    const cases = [
      '10.89.1.2',
      '0.0.0.0',
      '255.255.255.255',
      '192.0.2.7',
      '010.1.1.1',
      '1.2.3.256',
      '1.2.3',
      '1.2.3.4.5',
      '1..3.4',
      '1.2.3.4.',
      '',
      'a.b.c.d',
      '::ffff:10.0.0.9',
      'fd00::1',
      'fe80::1%eth0',
      'not-an-address',
    ];
    for (const address of cases)
      assert.deepEqual(endpointCookieSource({ address, port: 51820 }), general(address, 51820), address);
  });

  it('property: any dotted quad, any port', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 65535 }),
        (parts, port) => {
          const address = parts.join('.');
          assert.deepEqual(endpointCookieSource({ address, port }), general(address, port));
        },
      ),
      { numRuns: 500 },
    );
  });
});
