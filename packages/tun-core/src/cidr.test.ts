import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cidrNetwork, formatCidr, parseCidr, parseIpAddress } from './cidr.js';
import { TunConfigError } from './errors.js';

describe('CIDR parsing', () => {
  it('parses IPv4 and IPv6 prefixes and bare addresses', () => {
    assert.deepEqual(parseCidr('10.0.0.1/24'), { family: 4, address: Uint8Array.of(10, 0, 0, 1), prefix: 24 });
    assert.equal(parseCidr('10.0.0.1').prefix, 32);
    assert.equal(formatCidr(parseCidr('fd00::1/64')), 'fd00::1/64');
    assert.equal(formatCidr(parseCidr('::/0')), '::/0');
    assert.equal(formatCidr(parseCidr('2001:db8:0:0:1:0:0:1/128')), '2001:db8::1:0:0:1/128');
    assert.equal(formatCidr(parseCidr('::ffff:1.2.3.4/128')), '::ffff:102:304/128');
    assert.equal(formatCidr(cidrNetwork(parseCidr('10.1.2.3/8'))), '10.0.0.0/8');
    assert.equal(formatCidr(cidrNetwork(parseCidr('fd00::1:2/112'))), 'fd00::1:0/112');
    assert.deepEqual([...parseIpAddress('1.2.3.4')], [1, 2, 3, 4]);
  });

  it('refuses malformed text with a typed error naming it', () => {
    for (const text of [
      '10.0.0.1/33',
      '1.2.3',
      '1.2.3.256',
      '01.2.3.4',
      '::g/64',
      '1::2::3',
      'fd00::/129',
      '10.0.0.0/',
      '10.0.0.0/-1',
      '',
      '1:2:3:4:5:6:7:8:9',
    ]) {
      assert.throws(
        () => parseCidr(text),
        (e: TunConfigError) => e instanceof TunConfigError && e.code === 'ERR_CIDR' && e.message.includes(`'${text}'`),
        text,
      );
    }
    assert.throws(() => parseIpAddress('10.0.0.1/8'), /IP address/);
  });
});
