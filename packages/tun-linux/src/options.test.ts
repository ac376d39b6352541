import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunConfigError } from '@tunkit/tun-core';
import { validateOptions } from './options.js';

describe('LinuxTun options', () => {
  it('applies defaults', () => {
    const o = validateOptions({});
    assert.equal(o.queues, 2);
    assert.equal(o.mtu, 1420);
    assert.equal(o.txQueueLen, 10_000);
    assert.equal(o.up, true);
    assert.deepEqual(o.addresses, []);
  });

  it('takes the queue sizes and flags it is given', () => {
    const o = validateOptions({ inboundSlots: 16, outboundSlots: 65536, up: false, offload: false });
    assert.equal(o.inboundSlots, 16);
    assert.equal(o.outboundSlots, 65536);
    assert.equal(o.up, false);
    assert.equal(o.offload, false);
  });

  it('parses addresses and routes as CIDRs', () => {
    const o = validateOptions({ addresses: ['10.0.0.1/24', 'fd00::1/64'], routes: ['0.0.0.0/0'] });
    assert.equal(o.addresses[1]?.cidr.family, 6);
    assert.equal(o.routes[0]?.cidr.prefix, 0);
  });

  it('refuses out-of-range and malformed values, naming them', () => {
    const bad: [Parameters<typeof validateOptions>[0], RegExp][] = [
      [{ queues: 0 }, /queues .* got 0/],
      [{ queues: 1.5 }, /got 1.5/],
      [{ mtu: 10 }, /got 10/],
      [{ txQueueLen: -1 }, /txQueueLen .* got -1/],
      [{ name: 'bad name' }, /'bad name'/],
      [{ name: '' }, /''/],
      [{ addresses: ['300.0.0.1/24'] }, /'300.0.0.1\/24'/],
      [{ routes: 'oops' as unknown as string[] }, /array of CIDR strings/],
      [{ up: 'yes' as unknown as boolean }, /up must be true or false, got yes/],
      [{ up: 0 as unknown as boolean }, /up must be true or false, got 0/],
      [{ offload: 1 as unknown as boolean }, /offload must be true or false, got 1/],
      [{ outboundSlots: 15 }, /outboundSlots must be an integer in 16..65536, got 15/],
      [{ inboundSlots: 65537 }, /inboundSlots must be an integer in 16..65536, got 65537/],
      [{ outboundSlots: 32.5 }, /outboundSlots .* got 32.5/],
    ];
    for (const [options, message] of bad) {
      assert.throws(
        () => validateOptions(options),
        (e: Error) => e instanceof TunConfigError && message.test(e.message),
      );
    }
  });
});
