// Validation of openTun's options, in TS before anything native runs, so bad input gets a typed
// error naming the value (and never reaches the addon).

import { win32 } from 'node:path';
import {
  type Cidr,
  checkCidrList,
  checkIntegerOption,
  checkMtu,
  TunConfigError,
  type TunOptions,
} from '@tunkit/tun-core';
import { parseGuid } from './guid.js';

/** WinTun's ring bounds (wintun.h: WINTUN_MIN_RING_CAPACITY, WINTUN_MAX_RING_CAPACITY). */
export const MIN_RING_CAPACITY = 128 * 1024;
export const MAX_RING_CAPACITY = 64 * 1024 * 1024;
export const DEFAULT_RING_CAPACITY = 8 * 1024 * 1024;

export interface WindowsTunOptions extends TunOptions {
  /** Adapter name shown by Windows, 1..127 characters (default "tunkit"). */
  name?: string;
  /**
   * A fixed adapter GUID ("{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}"). With one, Windows keeps the
   * interface index, its network profile and firewall category across restarts; without one, each
   * open creates a new network identity.
   */
  guid?: string;
  /** WinTun ring size in bytes: a power of two in 128 KiB..64 MiB (default 8 MiB). */
  ringCapacity?: number;
  /** Absolute path of wintun.dll, tried first (then TUNKIT_WINTUN_DLL, then node.exe's directory and System32). */
  dllPath?: string;
  /** MTU (default 1420), set for IPv4 and IPv6. */
  mtu?: number;
  /** Addresses to add, as CIDRs ("10.0.0.1/24", "fd00::1/64"). */
  addresses?: string[];
  /** Routes through the adapter, as CIDRs ("10.10.0.0/16"). */
  routes?: string[];
  /** Metric of those routes (default 0: the interface metric alone decides). */
  routeMetric?: number;
  /** Received packets held for JS before the receive thread waits (default 1024). */
  inboundSlots?: number;
  /** Packets held while WinTun's send ring is full, before `send` returns false (default 256). */
  pendingSlots?: number;
  /** How long the send thread retries a packet on a full ring before dropping it, in ms (default 20). */
  sendRetryMs?: number;
}

export interface ValidatedOptions {
  name: string;
  guid: Uint8Array | undefined;
  ringCapacity: number;
  dllPaths: string[];
  mtu: number;
  addresses: { text: string; cidr: Cidr }[];
  routes: { text: string; cidr: Cidr }[];
  routeMetric: number;
  inboundSlots: number;
  pendingSlots: number;
  sendRetryMicros: number;
}

/** The ring capacity, or a TunConfigError naming the value and the bounds. */
export function checkRingCapacity(value: unknown): number {
  if (value === undefined) return DEFAULT_RING_CAPACITY;
  const ok =
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= MIN_RING_CAPACITY &&
    value <= MAX_RING_CAPACITY &&
    (value & (value - 1)) === 0;
  if (!ok) {
    throw new TunConfigError(
      'ERR_TUN_RING_CAPACITY',
      `ringCapacity must be a power of two from 131072 (128 KiB) to 67108864 (64 MiB), as WinTun requires; got ${String(value)}`,
    );
  }
  return value;
}

function dllPaths(option: unknown, env: string | undefined): string[] {
  const paths: string[] = [];
  for (const [what, value] of [
    ['dllPath', option],
    ['TUNKIT_WINTUN_DLL', env === '' ? undefined : env],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || !win32.isAbsolute(value) || !/\.dll$/i.test(value)) {
      throw new TunConfigError(
        'ERR_TUN_DLL_PATH',
        `${what} must be the absolute path of wintun.dll (e.g. 'C:\\Program Files\\MyApp\\wintun.dll'), got '${String(value)}'`,
      );
    }
    paths.push(value);
  }
  return paths;
}

export function validateOptions(options: WindowsTunOptions, env: NodeJS.ProcessEnv = process.env): ValidatedOptions {
  const name = options.name ?? 'tunkit';
  // MAX_ADAPTER_NAME is 128 including the terminator.
  const hasControl = typeof name === 'string' && [...name].some((c) => c.charCodeAt(0) < 0x20);
  if (typeof name !== 'string' || name.length < 1 || name.length > 127 || hasControl) {
    throw new TunConfigError(
      'ERR_TUN_NAME',
      `adapter name must be 1..127 characters without control characters, got '${String(name)}'`,
    );
  }
  return {
    name,
    guid: options.guid === undefined ? undefined : parseGuid(String(options.guid)),
    ringCapacity: checkRingCapacity(options.ringCapacity),
    dllPaths: dllPaths(options.dllPath, env.TUNKIT_WINTUN_DLL),
    mtu: checkMtu(options.mtu),
    addresses: checkCidrList('addresses', options.addresses),
    routes: checkCidrList('routes', options.routes),
    routeMetric: checkIntegerOption('routeMetric', options.routeMetric, 0, 9999, 0),
    inboundSlots: checkIntegerOption('inboundSlots', options.inboundSlots, 16, 65536, 1024),
    pendingSlots: checkIntegerOption('pendingSlots', options.pendingSlots, 16, 65536, 256),
    sendRetryMicros: checkIntegerOption('sendRetryMs', options.sendRetryMs, 0, 1000, 20) * 1000,
  };
}
