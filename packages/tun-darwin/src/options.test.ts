// Unprivileged checks of tun-darwin's API: bad options are typed errors naming the value, and
// off macOS openTun (and fromFd without a name) say that utun needs macOS.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type TunError, TunOsError } from '@tunkit/tun-core';
import { fromFd, openTun } from './index.js';

const code = (expected: string, text: RegExp) => (e: TunError) => e.code === expected && text.test(e.message);

describe('tun-darwin API', () => {
  it('openTun refuses names other than utun / utunN, bad MTUs, CIDRs and queue options, naming the value', async () => {
    await assert.rejects(openTun({ name: 'tun0' }), code('ERR_TUN_NAME', /tun0/));
    await assert.rejects(openTun({ name: 'utun01' }), code('ERR_TUN_NAME', /utun01/));
    await assert.rejects(openTun({ name: 'utunx' }), code('ERR_TUN_NAME', /utunx/));
    await assert.rejects(openTun({ mtu: 70_000 }), code('ERR_TUN_MTU', /70000/));
    await assert.rejects(openTun({ addresses: ['10.0.0.1/33'] }), code('ERR_CIDR', /10\.0\.0\.1\/33/));
    await assert.rejects(openTun({ routes: '10.0.0.0/8' as unknown as string[] }), code('ERR_CIDR', /array/));
    await assert.rejects(openTun({ pendingPackets: 0 }), code('ERR_TUN_OPTION', /pendingPackets.*0/));
  });

  it('openTun off macOS is a TunConfigError naming the platform', { skip: process.platform === 'darwin' }, async () => {
    await assert.rejects(
      openTun({ name: 'utun7', addresses: ['10.0.0.1/24'] }),
      code('ERR_TUN_PLATFORM_UNSUPPORTED', new RegExp(`macOS.*${process.platform}`)),
    );
  });

  it('fromFd refuses a bad fd or name; off macOS it needs { name }', () => {
    assert.throws(() => fromFd(-3), code('ERR_TUN_FD', /-3/));
    assert.throws(() => fromFd(Number.NaN), code('ERR_TUN_FD', /NaN/));
    assert.throws(() => fromFd(0, { name: 'a b' }), code('ERR_TUN_NAME', /a b/));
    assert.throws(() => fromFd(0, { stallBudgetMs: 0 }), code('ERR_TUN_OPTION', /stallBudgetMs/));
    if (process.platform !== 'darwin') assert.throws(() => fromFd(0), code('ERR_TUN_PLATFORM_UNSUPPORTED', /name/));
  });

  it('fromFd on a closed fd is a TunOsError EBADF naming the fd', () => {
    assert.throws(
      () => fromFd(876_543, { name: 'utun9' }),
      (e: unknown) => e instanceof TunOsError && e.errno === 'EBADF' && /876543/.test(e.message),
    );
  });
});
