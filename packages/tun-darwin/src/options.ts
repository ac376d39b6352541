// Validation of openTun's and fromFd's options, in TS before anything native runs, so bad input
// gets a typed TunConfigError naming the value (and never reaches the addon).

import {
  type Cidr,
  checkCidrList,
  checkFdWriteQueue,
  checkInterfaceName,
  checkMtu,
  type FdWriteQueueOptions,
  TunConfigError,
  type TunOptions,
  type ValidatedFdWriteQueue,
} from '@tunkit/tun-core';

/** How the device holds writes the kernel refuses for now (utun's ENOSPC, EAGAIN): tun-core's FdWriteQueueOptions. */
export type WriteQueueOptions = FdWriteQueueOptions;

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

export interface ValidatedOpen extends ValidatedFdWriteQueue {
  /** -1: the kernel picks. */
  unit: number;
  mtu: number;
  addresses: Cidr[];
  routes: Cidr[];
}

export interface ValidatedFromFd extends ValidatedFdWriteQueue {
  fd: number;
  name: string | undefined;
  mtu: number;
}

const UTUN = /^utun(0|[1-9]\d{0,8})?$/;

function cidrs(what: string, list: unknown): Cidr[] {
  return checkCidrList(what, list).map((entry) => entry.cidr);
}

function object<T>(what: string, options: T): T {
  if (typeof options !== 'object' || options === null) {
    throw new TunConfigError('ERR_TUN_OPTION', `${what} options must be an object, got ${String(options)}`);
  }
  return options;
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
    ...checkFdWriteQueue(options),
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
  return { fd, name: checkInterfaceName(options.name), mtu: checkMtu(options.mtu), ...checkFdWriteQueue(options) };
}
