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

/** tun-core's NativeBatchDevice, plus the device name and what the kernel accepted for offload. */
export interface NativeTunDevice extends NativeBatchDevice {
  readonly name: string;
  readonly offload: NativeOffload;
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

function load(): Addon {
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => Addon;
  try {
    return nodeGypBuild(join(packageRoot, 'native'));
  } catch (error) {
    throw new TunConfigError(
      'ERR_TUN_NATIVE_MISSING',
      `@tunkit/tun-linux has no native build for ${process.platform}-${process.arch} (node ${process.version}): build it with 'npx node-gyp rebuild --directory=native' inside the package (needs python3, make and g++)`,
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
