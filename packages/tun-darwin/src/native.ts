// The only file that loads the tun-darwin addon. Everything native goes through `native` below;
// errors thrown by the addon are turned into tun-core's TunOsError here.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NativeBatchDevice, TunConfigError, TunOsError } from '@tunkit/tun-core';

/** Options of tun-core's FdDevice (native/include/tunkit/fd_device_object.hh), validated in options.ts. */
export interface NativeFdDeviceOptions {
  mtu: number;
  framing: 'darwin';
  pendingPackets: number;
  retryIntervalMs: number;
  stallBudgetMs: number;
  /** Work on a dup of the fd and leave the original to its owner. */
  duplicate: boolean;
}

/** The macOS-only exports (native/utun.hh); absent elsewhere. */
export interface UtunAddon {
  openUtun(unit: number): { fd: number; name: string };
  utunName(fd: number): string;
  setMtu(name: string, mtu: number): void;
  setUp(name: string): void;
  addAddress(name: string, address: Uint8Array, prefix: number): void;
  addRoute(name: string, network: Uint8Array, prefix: number, existingIsFine: boolean): void;
}

interface Addon extends Partial<UtunAddon> {
  FdDevice: new (fd: number, options: NativeFdDeviceOptions, onWake: () => void) => NativeBatchDevice;
  /** Test support (test/): a socketpair(AF_UNIX, SOCK_DGRAM) standing in for utun, [device, peer]. */
  openTestSocketPair(): [number, number];
  setSendBuffer(fd: number, bytes: number): number;
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
      `@tunkit/tun-darwin has no native build for ${process.platform}-${process.arch} (node ${process.version}): build it with 'npx node-gyp rebuild --directory=native' inside the package (needs the Xcode command line tools: xcode-select --install)`,
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

/** The macOS-only exports, or a TunConfigError saying utun exists only there. */
export function utun(what: string): UtunAddon {
  const a = native();
  if (process.platform !== 'darwin' || a.openUtun === undefined) {
    throw new TunConfigError(
      'ERR_TUN_PLATFORM_UNSUPPORTED',
      `${what} needs macOS (utun), and this is ${process.platform}: use the tunkit package for this platform (@tunkit/tun-linux on Linux)`,
    );
  }
  return a as Addon & UtunAddon;
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
