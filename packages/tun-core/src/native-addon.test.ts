import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunConfigError, TunOsError } from './errors.js';
import { callNative, loadNativeAddon, type NativeAddonHint, nativeLoadFailureMessage } from './native-addon.js';

const hint: NativeAddonHint = { build: "build it with 'npx node-gyp rebuild --directory=native' inside the package" };
const noBuild = new Error('No native build was found for platform=linux arch=arm64 runtime=node abi=115');

describe('native addon loading', () => {
  it('says there is no build for this platform, and how to make one', () => {
    const message = nativeLoadFailureMessage('@tunkit/tun-x', hint, noBuild, 'linux', 'arm64', 'v20.11.0');
    assert.equal(
      message,
      "@tunkit/tun-x has no native addon for linux-arm64 (Node v20.11.0): build it with 'npx node-gyp rebuild --directory=native' inside the package",
    );
  });

  it('passes on the first line of what the OS refused when a build is there', () => {
    const refused = new Error("libc.so.6: version `GLIBC_2.34' not found\nmore");
    const message = nativeLoadFailureMessage('@tunkit/tun-x', hint, refused, 'linux', 'x64', 'v20.11.0');
    assert.match(
      message,
      /could not load its native addon on linux-x64 \(Node v20\.11\.0\): .*GLIBC_2\.34' not found\. To rebuild it, build it/,
    );
    assert.doesNotMatch(message, /more/);
  });

  it('names the one OS a package runs on, and what a prebuilt addon needs', () => {
    const linux: NativeAddonHint = {
      ...hint,
      onlyOn: { platform: 'linux', name: 'Linux' },
      prebuilt: { target: 'linux-x64 (glibc)', needs: 'glibc 2.34' },
    };
    assert.match(
      nativeLoadFailureMessage('p', linux, noBuild, 'darwin', 'arm64', 'v20'),
      /p runs on Linux only, this is darwin/,
    );
    assert.match(
      nativeLoadFailureMessage('p', linux, noBuild, 'linux', 'arm64', 'v20'),
      /prebuilt addon for linux-x64 \(glibc\) only; on arm64, build it/,
    );
    assert.match(
      nativeLoadFailureMessage('p', linux, new Error('x'), 'linux', 'x64', 'v20'),
      /: x\. The prebuilt addon needs glibc 2\.34; elsewhere, build it/,
    );
  });

  it('throws ERR_TUN_NATIVE_MISSING for a folder with no addon', () => {
    assert.throws(
      () => loadNativeAddon('@tunkit/tun-x', '/nonexistent/native', hint),
      (e: unknown) =>
        e instanceof TunConfigError && e.code === 'ERR_TUN_NATIVE_MISSING' && e.message.startsWith('@tunkit/tun-x '),
    );
  });

  it('turns an addon error with errno into TunOsError and passes others on', () => {
    const os = Object.assign(new Error('EPERM opening /dev/net/tun'), { errno: 'EPERM', syscall: 'open' });
    assert.throws(
      () =>
        callNative(() => {
          throw os;
        }),
      (e: unknown) => e instanceof TunOsError && e.errno === 'EPERM' && e.syscall === 'open' && e.cause === os,
    );
    const plain = new TypeError('bad argument');
    assert.throws(
      () =>
        callNative(() => {
          throw plain;
        }),
      (e: unknown) => e === plain,
    );
    assert.equal(
      callNative(() => 7),
      7,
    );
  });
});
