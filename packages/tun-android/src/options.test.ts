// Unprivileged checks of tun-android's API: bad arguments are typed errors naming the value, and
// openTun explains that Android devices come from VpnService.
import assert from 'node:assert/strict';
import { openSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type TunError, TunOsError } from '@tunkit/tun-core';
import { fromFd, openTun } from './index.js';

describe('tun-android API', () => {
  it('openTun always refuses with a TunConfigError pointing at VpnService and fromFd', async () => {
    await assert.rejects(openTun({ mtu: 1400 }), (e: TunError) => {
      assert.equal(e.code, 'ERR_TUN_ANDROID_VPNSERVICE');
      assert.match(e.message, /VpnService/);
      assert.match(e.message, /fromFd/);
      return true;
    });
  });

  it('fromFd refuses a non-integer fd, a bad MTU, a bad name and bad queue options, naming the value', () => {
    const code = (expected: string, text: RegExp) => (e: TunError) => e.code === expected && text.test(e.message);
    assert.throws(() => fromFd(-1), code('ERR_TUN_FD', /-1/));
    assert.throws(() => fromFd(3.5), code('ERR_TUN_FD', /3\.5/));
    assert.throws(() => fromFd('7' as unknown as number), code('ERR_TUN_FD', /7/));
    assert.throws(() => fromFd(0, { mtu: 20 }), code('ERR_TUN_MTU', /20/));
    assert.throws(() => fromFd(0, { name: 'no spaces' }), code('ERR_TUN_NAME', /no spaces/));
    assert.throws(() => fromFd(0, { pendingPackets: 0 }), code('ERR_TUN_OPTION', /pendingPackets.*0/));
    assert.throws(() => fromFd(0, { stallBudgetMs: -5 }), code('ERR_TUN_OPTION', /stallBudgetMs.*-5/));
  });

  it('fromFd on a closed fd is a TunOsError EBADF naming the fd', () => {
    assert.throws(
      () => fromFd(987_654),
      (e: unknown) =>
        e instanceof TunOsError && e.errno === 'EBADF' && e.syscall === 'fcntl' && /987654/.test(e.message),
    );
  });

  it('fromFd on a regular file is a TunOsError: it cannot be watched for readiness', () => {
    const fd = openSync(new URL(import.meta.url), 'r');
    assert.throws(
      () => fromFd(fd, { name: 'file' }),
      (e: unknown) => e instanceof TunOsError && e.syscall === 'uv_poll_init' && e.message.includes(`fd ${fd}`),
    );
  });
});
