// Validation of fromFd's arguments, in TS before anything native runs, so bad input gets a typed
// TunConfigError naming the value and never reaches the addon.

import { checkMtu, TunConfigError } from '@tunkit/tun-core';

export interface AndroidFromFdOptions {
  /**
   * The MTU the VpnService.Builder was given (`setMtu`), 68..65535, default 1420. Packets longer
   * than this are refused by `send` and dropped (counted) when read.
   */
  mtu?: number;
  /** Interface name to report; default: what the kernel says (TUNGETIFF), else "tun". */
  name?: string;
  /** Outbound packets held while the kernel refuses writes (default 128): `send` returns false beyond this. */
  pendingPackets?: number;
  /** Milliseconds between retries of held packets (default 1). */
  retryIntervalMs?: number;
  /** Milliseconds held packets may wait with none written before they are dropped and counted (default 2000). */
  stallBudgetMs?: number;
}

export interface ValidatedFromFd {
  fd: number;
  mtu: number;
  name: string | undefined;
  pendingPackets: number;
  retryIntervalMs: number;
  stallBudgetMs: number;
}

const NAME = /^[A-Za-z0-9_.-]{1,15}$/;

function integer(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TunConfigError('ERR_TUN_OPTION', `${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

export function validateFromFd(fd: unknown, options: AndroidFromFdOptions): ValidatedFromFd {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new TunConfigError(
      'ERR_TUN_FD',
      `fromFd needs the integer file descriptor from VpnService.establish().detachFd(), got ${String(fd)}`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new TunConfigError('ERR_TUN_OPTION', `fromFd options must be an object, got ${String(options)}`);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || !NAME.test(options.name))) {
    throw new TunConfigError(
      'ERR_TUN_NAME',
      `interface name must be 1..15 characters of A-Z a-z 0-9 _ . -, got '${String(options.name)}'`,
    );
  }
  return {
    fd,
    mtu: checkMtu(options.mtu),
    name: options.name,
    pendingPackets: integer('pendingPackets', options.pendingPackets, 1, 65536, 128),
    retryIntervalMs: integer('retryIntervalMs', options.retryIntervalMs, 1, 1000, 1),
    stallBudgetMs: integer('stallBudgetMs', options.stallBudgetMs, 1, 600_000, 2000),
  };
}
