import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TunConfigError } from './errors.js';
import { loadPlatformTun, PLATFORM_PACKAGES, platformPackage } from './loader.js';

describe('loadPlatformTun', () => {
  it('maps each supported platform to its package', () => {
    assert.equal(platformPackage('linux'), '@tunkit/tun-linux');
    assert.equal(platformPackage('win32'), '@tunkit/tun-windows');
    assert.equal(platformPackage('darwin'), '@tunkit/tun-darwin');
    assert.equal(platformPackage('android'), '@tunkit/tun-android');
    assert.throws(
      () => platformPackage('aix'),
      (e: TunConfigError) => e.code === 'ERR_TUN_PLATFORM_UNSUPPORTED' && /aix/.test(e.message),
    );
  });

  it('names the package to install and the platform when it is missing', async () => {
    // A real dynamic import of a package that is not installed here.
    await assert.rejects(
      loadPlatformTun({ platform: 'win32' }),
      (e: TunConfigError) =>
        e.code === 'ERR_TUN_PLATFORM_MISSING' &&
        e.message.includes('@tunkit/tun-windows') &&
        e.message.includes("'win32'"),
    );
  });

  it('refuses a module without openTun, and returns one with it', async () => {
    await assert.rejects(loadPlatformTun({ platform: 'linux', importer: async () => ({}) }), /does not export openTun/);
    const platform = { openTun: async () => undefined };
    assert.equal(await loadPlatformTun({ platform: 'darwin', importer: async () => platform }), platform);
    assert.equal(Object.keys(PLATFORM_PACKAGES).length, 4);
  });
});
