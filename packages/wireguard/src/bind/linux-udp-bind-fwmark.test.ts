// LinuxUdpBind.setFwmark: SO_MARK on the socket (needs CAP_NET_ADMIN), read back with getsockopt
// and seen by the kernel's socket diagnostics (`ss -e` prints a socket's fwmark).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { TunConfigError } from '@tunkit/tun-core';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { LinuxUdpBind } from './linux-udp-bind.js';

const { skip } = privilegedSuite('LinuxUdpBind fwmark (SO_MARK needs CAP_NET_ADMIN)');

/** The fwmark `ss` reports for the UDP socket on 127.0.0.1:`port`, or undefined without one. */
function ssFwmark(port: number): number | undefined {
  const text = execFileSync('ss', ['-uaenH', `sport = :${port}`], { encoding: 'utf8' });
  const mark = /fwmark:(0x[0-9a-f]+)/.exec(text)?.[1];
  return mark === undefined ? undefined : Number(mark);
}

describe('LinuxUdpBind fwmark', { skip }, () => {
  it('marks the socket, changes and clears the mark, and refuses a bad one', async () => {
    const bind = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false });
    try {
      assert.equal(bind.fwmark, 0);
      assert.equal(ssFwmark(bind.port), undefined);
      bind.setFwmark(0x2a);
      assert.equal(bind.fwmark, 0x2a);
      assert.equal(ssFwmark(bind.port), 0x2a);
      bind.setFwmark(0xffff_ffff);
      assert.equal(ssFwmark(bind.port), 0xffff_ffff);
      bind.setFwmark(0);
      assert.equal(bind.fwmark, 0);
      assert.equal(ssFwmark(bind.port), undefined);
      assert.throws(() => bind.setFwmark(-1), TunConfigError);
      assert.throws(() => bind.setFwmark(2 ** 32), TunConfigError);
    } finally {
      await bind.close();
    }
    assert.throws(() => bind.setFwmark(1), /closed/);
  });
});
