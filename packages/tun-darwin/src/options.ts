// Validation of openTun's and fromFd's options, in TS before anything native runs, so bad input
// gets a typed TunConfigError naming the value (and never reaches the addon).

import { type Cidr, checkMtu, parseCidr, TunConfigError, type TunOptions } from '@tunkit/tun-core';

/** How the device holds writes the kernel refuses for now (utun's ENOSPC, EAGAIN). */
export interface WriteQueueOptions {
  /** Outbound packets held while the kernel refuses writes (default 128): `send` returns false beyond this. */
  pendingPackets?: number;
  /** Milliseconds between retries of held packets (default 1): utun signals no readiness for ENOSPC. */
  retryIntervalMs?: number;
  /** Milliseconds held packets may wait with none written before they are dropped and counted (default 2000). */
  stallBudgetMs?: number;
}

export interface DarwinTunOptions extends TunOptions, WriteQueueOptions {
  /** 'utun' (default: the kernel picks the first free utunN) or 'utunN' for a given unit. */
  name?: string;
  /** MTU (default 1420). */
  mtu?: number;
  /** Addresses to add, as CIDRs ("10.0.0.1/24", "fd00::1/64"); each one's subnet is routed through the device. */
  addresses?: string[];
  /** Routes through the device, as CIDRs ("10.10.0.0/16"). */
  routes?: string[];
}

export interface DarwinFromFdOptions extends WriteQueueOptions {
  /** Interface name to report; default: asked from the fd (UTUN_OPT_IFNAME). Required off macOS. */
  name?: string;
  /** The MTU the interface has (NEPacketTunnelNetworkSettings.mtu), default 1420. */
  mtu?: number;
}

export interface ValidatedWriteQueue {
  pendingPackets: number;
  retryIntervalMs: number;
  stallBudgetMs: number;
}

export interface ValidatedOpen extends ValidatedWriteQueue {
  /** -1: the kernel picks. */
  unit: number;
  mtu: number;
  addresses: Cidr[];
  routes: Cidr[];
}

export interface ValidatedFromFd extends ValidatedWriteQueue {
  fd: number;
  name: string | undefined;
  mtu: number;
}

const UTUN = /^utun(0|[1-9]\d{0,8})?$/;
const NAME = /^[A-Za-z0-9_.-]{1,15}$/;

function integer(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TunConfigError('ERR_TUN_OPTION', `${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

function cidrs(what: string, list: unknown): Cidr[] {
  if (list === undefined) return [];
  if (!Array.isArray(list))
    throw new TunConfigError('ERR_CIDR', `${what} must be an array of CIDR strings, got ${typeof list}`);
  return list.map((text) => parseCidr(text));
}

function object<T>(what: string, options: T): T {
  if (typeof options !== 'object' || options === null) {
    throw new TunConfigError('ERR_TUN_OPTION', `${what} options must be an object, got ${String(options)}`);
  }
  return options;
}

function writeQueue(options: WriteQueueOptions): ValidatedWriteQueue {
  return {
    pendingPackets: integer('pendingPackets', options.pendingPackets, 1, 65536, 128),
    retryIntervalMs: integer('retryIntervalMs', options.retryIntervalMs, 1, 1000, 1),
    stallBudgetMs: integer('stallBudgetMs', options.stallBudgetMs, 1, 600_000, 2000),
  };
}

export function validateOpen(options: DarwinTunOptions): ValidatedOpen {
  object('openTun', options);
  const name = options.name ?? 'utun';
  if (typeof name !== 'string' || !UTUN.test(name)) {
    throw new TunConfigError(
      'ERR_TUN_NAME',
      `a macOS TUN interface is named 'utun' (the kernel picks the number) or 'utunN' with N a number, got '${String(options.name)}'`,
    );
  }
  return {
    unit: name === 'utun' ? -1 : Number(name.slice(4)),
    mtu: checkMtu(options.mtu),
    addresses: cidrs('addresses', options.addresses),
    routes: cidrs('routes', options.routes),
    ...writeQueue(options),
  };
}

export function validateFromFd(fd: unknown, options: DarwinFromFdOptions): ValidatedFromFd {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new TunConfigError(
      'ERR_TUN_FD',
      `fromFd needs the integer file descriptor of a utun socket, got ${String(fd)}`,
    );
  }
  object('fromFd', options);
  if (options.name !== undefined && (typeof options.name !== 'string' || !NAME.test(options.name))) {
    throw new TunConfigError(
      'ERR_TUN_NAME',
      `interface name must be 1..15 characters of A-Z a-z 0-9 _ . -, got '${String(options.name)}'`,
    );
  }
  return { fd, name: options.name, mtu: checkMtu(options.mtu), ...writeQueue(options) };
}
