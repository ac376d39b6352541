// The only file that loads the tun-android addon. Everything native goes through `native` below;
// errors thrown by the addon are turned into tun-core's TunOsError here.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NativeBatchDevice, TunConfigError, TunOsError } from '@tunkit/tun-core';

/** Options of tun-core's FdDevice (native/include/tunkit/fd_device_object.hh), validated in options.ts. */
export interface NativeFdDeviceOptions {
  mtu: number;
  framing: 'none';
  pendingPackets: number;
  retryIntervalMs: number;
  stallBudgetMs: number;
  duplicate: false;
}

interface Addon {
  FdDevice: new (fd: number, options: NativeFdDeviceOptions, onWake: () => void) => NativeBatchDevice;
  /** The interface name behind a TUN fd (TUNGETIFF), or '' when the kernel will not say. */
  tunInterfaceName(fd: number): string;
  /** Test support (test/privileged/): a single-queue IFF_TUN | IFF_NO_PI fd, and entering a namespace. */
  openTestTun(name: string): number;
  enterNetworkNamespace(path: string): void;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function load(): Addon {
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => Addon;
  try {
    return nodeGypBuild(join(packageRoot, 'native'));
  } catch (error) {
    throw new TunConfigError(
      'ERR_TUN_NATIVE_MISSING',
      `@tunkit/tun-android has no native build for ${process.platform}-${process.arch} (node ${process.version}): build it for the device with the host app's toolchain (nodejs-mobile builds addons with its own node-gyp), or 'npx node-gyp rebuild --directory=native' inside the package`,
      { cause: error },
    );
  }
}

let addon: Addon | undefined;

/** The addon, loaded on first use. */
export function native(): Addon {
  addon ??= load();
  return addon;
}

/** Runs a native call, turning an addon error with errno/syscall into TunOsError. */
export function callNative<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    const e = error as Error & { errno?: string; syscall?: string };
    if (typeof e.errno === 'string') throw new TunOsError(e.errno, e.syscall ?? 'unknown', e.message, { cause: error });
    throw error;
  }
}
