import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunConfigError } from '@tunkit/tun-core';
import { formatGuid, parseGuid } from './guid.js';
import { checkRingCapacity, DEFAULT_RING_CAPACITY, validateOptions } from './options.js';

describe('tun-windows options', () => {
  it('ringCapacity: a power of two within WinTun bounds, default 8 MiB, and a message naming the value', () => {
    assert.equal(checkRingCapacity(undefined), DEFAULT_RING_CAPACITY);
    assert.equal(DEFAULT_RING_CAPACITY, 8 * 1024 * 1024);
    assert.equal(checkRingCapacity(128 * 1024), 128 * 1024);
    assert.equal(checkRingCapacity(64 * 1024 * 1024), 64 * 1024 * 1024);
    for (const bad of [64 * 1024, 128 * 1024 * 1024, 3 * 1024 * 1024, 131072.5, '8M', -1]) {
      assert.throws(
        () => checkRingCapacity(bad),
        (e: unknown) =>
          e instanceof TunConfigError && e.code === 'ERR_TUN_RING_CAPACITY' && e.message.includes(String(bad)),
      );
    }
  });

  it('dllPath then TUNKIT_WINTUN_DLL, both absolute', () => {
    const o = validateOptions({ dllPath: 'C:\\a\\wintun.dll' }, { TUNKIT_WINTUN_DLL: 'D:\\b\\wintun.dll' });
    assert.deepEqual(o.dllPaths, ['C:\\a\\wintun.dll', 'D:\\b\\wintun.dll']);
    assert.deepEqual(validateOptions({}, {}).dllPaths, []);
    assert.throws(
      () => validateOptions({}, { TUNKIT_WINTUN_DLL: 'wintun.dll' }),
      /TUNKIT_WINTUN_DLL must be the absolute path/,
    );
  });

  it('name, mtu, addresses and defaults', () => {
    const o = validateOptions({}, {});
    assert.equal(o.name, 'tunkit');
    assert.equal(o.mtu, 1420);
    assert.equal(o.pendingSlots, 256);
    assert.equal(o.sendRetryMicros, 20_000);
    assert.throws(() => validateOptions({ name: '' }, {}), /adapter name/);
    assert.throws(() => validateOptions({ name: 'x'.repeat(128) }, {}), /adapter name/);
    assert.throws(() => validateOptions({ addresses: ['10.0.0.1/33'] }, {}), TunConfigError);
    assert.throws(() => validateOptions({ mtu: 20 }, {}), TunConfigError);
  });

  it('GUIDs: Windows byte layout (little-endian Data1..Data3), braces optional, round trip', () => {
    const bytes = parseGuid('{00112233-4455-6677-8899-AABBCCDDEEFF}');
    assert.deepEqual(
      [...bytes],
      [0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff],
    );
    assert.deepEqual(parseGuid('00112233-4455-6677-8899-aabbccddeeff'), bytes);
    assert.equal(formatGuid(bytes), '{00112233-4455-6677-8899-AABBCCDDEEFF}');
    assert.throws(() => parseGuid('{00112233-4455-6677-8899-AABBCCDDEEFF'), /guid must look like/);
    assert.throws(() => parseGuid('00112233445566778899AABBCCDDEEFF'), TunConfigError);
  });
});
