// Opening over the fake WinTun: what openTun asks IP Helper for (MTU per family, addresses,
// routes), the fixed GUID, an adapter name already in use, and the typed errors of each failure.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCidr, TunConfigError, TunOsError } from '@tunkit/tun-core';
import { parseGuid } from '../../src/guid.js';
import { openTun } from '../../src/index.js';
import { fakeWintun } from '../../src/native.js';
import { openWindowsTun } from '../../src/open.js';
import { uniqueName } from './fake-harness.js';

const threads = () => readdirSync('/proc/self/task').length;

describe('WinTun adapter configuration and errors (fake WinTun)', () => {
  it('sets the MTU of both families, then adds the addresses and routes through IP Helper', async () => {
    const tun = await openWindowsTun({
      name: uniqueName(),
      mtu: 1380,
      addresses: ['10.9.0.1/24', 'fd00:9::1/64'],
      routes: ['10.10.0.0/16', 'fd00:10::/48'],
      routeMetric: 5,
    });
    try {
      assert.deepEqual(fakeWintun().state(tun.name).config, [
        'mtu v4 1380',
        'mtu v6 1380',
        'address 10.9.0.1/24',
        'address fd00:9:0:0:0:0:0:1/64',
        'route add 10.10.0.0/16 metric 5',
        'route add fd00:10:0:0:0:0:0:0/48 metric 5',
      ]);
      tun.deleteRoute(parseCidr('10.10.0.0/16'));
      assert.equal(fakeWintun().state(tun.name).config.at(-1), 'route delete 10.10.0.0/16');
      assert.equal(tun.mtu, 1380);
      assert.equal(tun.luid, fakeWintun().state(tun.name).luid);
    } finally {
      await tun.close();
    }
  });

  it('passes a fixed GUID to WintunCreateAdapter and the ring capacity to WintunStartSession', async () => {
    const guid = '{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}';
    const tun = await openWindowsTun({ name: uniqueName(), guid, ringCapacity: 1 << 20 });
    try {
      const state = fakeWintun().state(tun.name);
      assert.deepEqual(state.guid, Buffer.from(parseGuid(guid)));
      assert.equal(state.capacity, 1 << 20);
      assert.equal(tun.created, true);
    } finally {
      await tun.close();
    }
  });

  it('an adapter name in use: opens it (WintunOpenAdapter), and its second session is refused with a typed error', async () => {
    const name = uniqueName();
    const first = await openWindowsTun({ name });
    try {
      await assert.rejects(
        openWindowsTun({ name }),
        (e: unknown) =>
          e instanceof TunOsError && e.errno === 'ERROR_ALREADY_EXISTS' && e.syscall === 'WintunStartSession',
      );
    } finally {
      await first.close();
    }
    const again = await openWindowsTun({ name });
    assert.equal(again.created, true);
    await again.close();
  });

  it('a refused IP Helper call closes the device and throws TunOsError naming the Win32 error and the call', async () => {
    const before = threads();
    const name = uniqueName();
    fakeWintun().failNext('CreateUnicastIpAddressEntry', 5);
    await assert.rejects(
      openWindowsTun({ name, addresses: ['10.9.0.1/24'] }),
      (e: unknown) =>
        e instanceof TunOsError &&
        e.errno === 'ERROR_ACCESS_DENIED' &&
        e.syscall === 'CreateUnicastIpAddressEntry' &&
        e.code === 'ERR_TUN_OS_ERROR_ACCESS_DENIED',
    );
    const state = fakeWintun().state(name);
    assert.equal(state.sessionActive, false);
    assert.equal(state.adapterOpen, false);
    assert.equal(threads(), before);
  });

  it('WintunCreateAdapter refused for lack of rights says Administrator', async () => {
    fakeWintun().failNext('WintunCreateAdapter', 5);
    await assert.rejects(
      openWindowsTun({ name: uniqueName() }),
      (e: unknown) =>
        e instanceof TunOsError && e.syscall === 'WintunCreateAdapter' && /Administrator/.test((e as Error).message),
    );
  });

  it('a missing wintun.dll: the error lists where it looked and where the signed DLL comes from', async () => {
    const fake = fakeWintun();
    fake.setDllPresent(false);
    try {
      await assert.rejects(
        openWindowsTun({ name: uniqueName(), dllPath: 'C:\\apps\\vpn\\wintun.dll' }),
        (e: unknown) => {
          assert.ok(e instanceof TunConfigError);
          assert.equal(e.code, 'ERR_TUN_WINTUN_MISSING');
          assert.match(e.message, /C:\\apps\\vpn\\wintun\.dll/);
          assert.match(e.message, /System32/);
          assert.match(e.message, /https:\/\/www\.wintun\.net\//);
          assert.match(e.message, /TUNKIT_WINTUN_DLL/);
          return true;
        },
      );
    } finally {
      fake.setDllPresent(true);
    }
  });

  it('bad options are refused before anything native runs', async () => {
    const before = fakeWintun().openCounts();
    await assert.rejects(openWindowsTun({ ringCapacity: 3 << 20 }), /ringCapacity must be a power of two/);
    await assert.rejects(openWindowsTun({ guid: 'not-a-guid' }), TunConfigError);
    await assert.rejects(openWindowsTun({ dllPath: 'wintun.dll' }), /absolute path/);
    assert.deepEqual(fakeWintun().openCounts(), before);
  });

  it('openTun refuses to run outside Windows', async () => {
    await assert.rejects(
      openTun(),
      (e: unknown) => e instanceof TunConfigError && e.code === 'ERR_TUN_PLATFORM_UNSUPPORTED',
    );
  });
});
