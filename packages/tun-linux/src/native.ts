// The only file that loads the tun-linux addon. Everything native goes through `native` below;
// errors thrown by the addon are turned into tun-core's TunOsError here.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NativeBatchDevice, TunConfigError, TunOsError } from '@tunkit/tun-core';

export interface NativeLink {
  index: number;
  name: string;
  mtu: number;
  txQueueLen: number;
  up: boolean;
  txDropped: number;
  rxDropped: number;
}

export interface NativePrefix {
  address: Uint8Array;
  prefix: number;
}

export interface NativeRule {
  family: 4 | 6;
  priority: number;
  table: number;
  ipProtocol: number;
  sourcePort: number;
  suppressPrefixLength: number;
}

export interface NativeOffload {
  vnetHeader: boolean;
  tso: boolean;
  uso: boolean;
}

/** tun-core's NativeBatchDevice, plus the device name, what the kernel accepted for offload, and the slot size. */
export interface NativeTunDevice extends NativeBatchDevice {
  readonly name: string;
  readonly offload: NativeOffload;
  /** Bytes one queue slot holds: the largest packet (so MTU) the open device can carry. */
  readonly maxPacketSize: number;
}

export interface NativeDeviceOptions {
  name?: string;
  queues: number;
  mtu: number;
  inboundSlots: number;
  outboundSlots: number;
  offload: boolean;
}

interface Addon {
  TunDevice: new (options: NativeDeviceOptions, onWake: () => void) => NativeTunDevice;
  /** See udp-bind.ts for its shape. */
  UdpSocket: unknown;
  flowHash(packet: Uint8Array): number;
  /** Test hooks for the offload codecs (native/offload.cc). null: malformed frame. */
  splitFrame(frame: Uint8Array): Uint8Array[] | null;
  coalesceRun(packets: Uint8Array[], udp: boolean): [Uint8Array, number];
  enterNetworkNamespace(path: string): void;
  linkIndex(name: string): number;
  getLink(index: number): NativeLink;
  setLink(index: number, field: 'mtu' | 'txQueueLen' | 'up', value: number | boolean, what: string): void;
  changeAddress(add: boolean, index: number, address: Uint8Array, prefix: number, what: string): void;
  changeRoute(add: boolean, index: number, address: Uint8Array, prefix: number, table: number, what: string): void;
  changeRule(add: boolean, rule: NativeRule, what: string): void;
  listAddresses(index: number): NativePrefix[];
  listRoutes(index: number, table: number): NativePrefix[];
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

const BUILD_FROM_SOURCE =
  "build it from the tunkit repository ('pnpm install && pnpm --filter @tunkit/tun-linux build'; needs python3, make and a C++17 compiler) and depend on that build";

/**
 * What to tell the user when the addon does not load. Two cases: no build for this platform at
 * all (the published package carries a prebuilt addon for linux-x64 with glibc only), or a build
 * that the OS refuses to load (an older glibc, musl): the loader's own message says which.
 */
export function loadFailureMessage(cause: unknown, platform: string, arch: string, nodeVersion: string): string {
  const detail = cause instanceof Error ? cause.message : String(cause);
  if (platform !== 'linux') {
    return `@tunkit/tun-linux runs on Linux only, this is ${platform}: install the tunkit package for ${platform} instead`;
  }
  if (/No native build was found/.test(detail)) {
    return `@tunkit/tun-linux has no native addon for ${platform}-${arch} (Node ${nodeVersion}): the published package carries a prebuilt addon for linux-x64 (glibc) only; on ${arch}, ${BUILD_FROM_SOURCE}`;
  }
  return `@tunkit/tun-linux could not load its native addon on ${platform}-${arch} (Node ${nodeVersion}): ${detail.split('\n')[0]}. The prebuilt addon needs x64 Linux with glibc 2.34 or newer (not musl/Alpine); elsewhere, ${BUILD_FROM_SOURCE}`;
}

function load(): Addon {
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => Addon;
  try {
    return nodeGypBuild(join(packageRoot, 'native'));
  } catch (error) {
    throw new TunConfigError(
      'ERR_TUN_NATIVE_MISSING',
      loadFailureMessage(error, process.platform, process.arch, process.version),
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
