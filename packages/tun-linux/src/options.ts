// Validation of openTun's options, in TS before anything native runs, so bad input gets a typed
// error naming the value (and never reaches the addon).

import {
  type Cidr,
  checkCidrList,
  checkIntegerOption,
  checkInterfaceName,
  checkMtu,
  TunConfigError,
  type TunOptions,
} from '@tunkit/tun-core';

export interface LinuxTunOptions extends TunOptions {
  /** Interface name, 1..15 characters of [A-Za-z0-9_.-]; the kernel picks tunN when absent. */
  name?: string;
  /** Queues (fds and native threads), 1..64 (default 2). */
  queues?: number;
  /** MTU (default 1420). */
  mtu?: number;
  /** Addresses to add, as CIDRs ("10.0.0.1/24", "fd00::1/64"). */
  addresses?: string[];
  /** Routes through the device, as CIDRs ("10.10.0.0/16"). */
  routes?: string[];
  /** Bring the interface up (default true). */
  up?: boolean;
  /** Kernel transmit queue length of the interface (default 10000; how many packets the kernel holds for us). */
  txQueueLen?: number;
  /** Packets held per queue for JS (default 1024) and for the device (default 1024). */
  inboundSlots?: number;
  outboundSlots?: number;
  /**
   * Kernel offloads (default true): IFF_VNET_HDR with TSO, and USO where the kernel has it (6.2+).
   * Reads of 64 KiB super-packets are cut into MTU-sized packets and consecutive segments of a
   * flow are written as one super-packet; the contract is unchanged (ordinary IP packets).
   * What the kernel accepted is in `LinuxTun.offload`.
   */
  offload?: boolean;
}

export interface ValidatedOptions {
  name: string | undefined;
  queues: number;
  mtu: number;
  addresses: { text: string; cidr: Cidr }[];
  routes: { text: string; cidr: Cidr }[];
  up: boolean;
  txQueueLen: number;
  inboundSlots: number;
  outboundSlots: number;
  offload: boolean;
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new TunConfigError('ERR_TUN_OPTION', `${name} must be true or false, got ${String(value)}`);
  return value;
}

export function validateOptions(options: LinuxTunOptions): ValidatedOptions {
  return {
    name: checkInterfaceName(options.name),
    queues: checkIntegerOption('queues', options.queues, 1, 64, 2),
    mtu: checkMtu(options.mtu),
    addresses: checkCidrList('addresses', options.addresses),
    routes: checkCidrList('routes', options.routes),
    up: flag('up', options.up, true),
    txQueueLen: checkIntegerOption('txQueueLen', options.txQueueLen, 0, 1_000_000, 10_000),
    inboundSlots: checkIntegerOption('inboundSlots', options.inboundSlots, 16, 65536, 1024),
    outboundSlots: checkIntegerOption('outboundSlots', options.outboundSlots, 16, 65536, 1024),
    offload: flag('offload', options.offload, true),
  };
}
