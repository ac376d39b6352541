// Interface configuration over rtnetlink (through the addon — no shelling out to `ip`):
// addresses, MTU, up/down, txqueuelen, routes, and reading them back.

import {
  type Cidr,
  checkMtu,
  cidrNetwork,
  formatCidr,
  formatIpAddress,
  parseCidr,
  TunConfigError,
} from '@tunkit/tun-core';
import { callNative, native } from './native.js';
import { openDeviceMtuLimit } from './open-devices.js';

export interface InterfaceState {
  name: string;
  index: number;
  mtu: number;
  txQueueLen: number;
  up: boolean;
  /** "10.0.0.1/24", "fd00::1/64" */
  addresses: string[];
  /** Routes through the interface in the main table: "10.10.0.0/16" */
  routes: string[];
}

function index(name: string): number {
  return callNative(() => native().linkIndex(name));
}

/**
 * Sets the interface's MTU (68..65535). On a device this process has open, the MTU may not
 * exceed what its queues hold (LinuxTun.maxMtu, at least 2048): a larger packet could not be
 * read whole. Reopen the device with the larger `mtu` instead.
 */
export function setMtu(name: string, mtu: number): void {
  checkMtu(mtu);
  const limit = openDeviceMtuLimit(name);
  if (limit !== undefined && mtu > limit) {
    throw new TunConfigError(
      'ERR_TUN_MTU',
      `MTU ${mtu} on ${name} is above ${limit}, the largest packet its open device's queues hold: close it and open it again with { mtu: ${mtu} }`,
    );
  }
  callNative(() => native().setLink(index(name), 'mtu', mtu, `setting MTU ${mtu} on ${name}`));
}

export function setTxQueueLen(name: string, length: number): void {
  callNative(() => native().setLink(index(name), 'txQueueLen', length, `setting txqueuelen ${length} on ${name}`));
}

export function setUp(name: string, up: boolean): void {
  callNative(() => native().setLink(index(name), 'up', up, `setting ${name} ${up ? 'up' : 'down'}`));
}

function asCidr(value: string | Cidr): Cidr {
  return typeof value === 'string' ? parseCidr(value) : value;
}

export function addAddress(name: string, address: string | Cidr): void {
  const cidr = asCidr(address);
  callNative(() =>
    native().changeAddress(
      true,
      index(name),
      cidr.address,
      cidr.prefix,
      `adding address ${formatCidr(cidr)} dev ${name}`,
    ),
  );
}

export function removeAddress(name: string, address: string | Cidr): void {
  const cidr = asCidr(address);
  callNative(() =>
    native().changeAddress(
      false,
      index(name),
      cidr.address,
      cidr.prefix,
      `removing address ${formatCidr(cidr)} dev ${name}`,
    ),
  );
}

/** The main routing table's number (`ip route` without `table`). */
export const MAIN_TABLE = 254;

export interface RouteOptions {
  /** Routing table, 1..2^32-1 except 253..255 other than main (default MAIN_TABLE). */
  table?: number;
}

function routeTable(options: RouteOptions): number {
  const table = options.table ?? MAIN_TABLE;
  if (
    !Number.isInteger(table) ||
    table < 1 ||
    table > 0xffff_ffff ||
    (table >= 253 && table <= 255 && table !== MAIN_TABLE)
  ) {
    throw new TunConfigError(
      'ERR_TUN_ROUTE_TABLE',
      `routing table ${table} is not usable: pick 1..252, 254 (main) or 256..4294967295`,
    );
  }
  return table;
}

function changeRoute(add: boolean, name: string, destination: string | Cidr, options: RouteOptions): void {
  const cidr = cidrNetwork(asCidr(destination));
  const table = routeTable(options);
  const where = table === MAIN_TABLE ? `dev ${name}` : `dev ${name} table ${table}`;
  const what = `${add ? 'adding' : 'removing'} route ${formatCidr(cidr)} ${where}`;
  callNative(() => native().changeRoute(add, index(name), cidr.address, cidr.prefix, table, what));
}

/** Adds a route to `destination` (host bits are cleared) through the interface. */
export function addRoute(name: string, destination: string | Cidr, options: RouteOptions = {}): void {
  changeRoute(true, name, destination, options);
}

export function removeRoute(name: string, destination: string | Cidr, options: RouteOptions = {}): void {
  changeRoute(false, name, destination, options);
}

/** The largest route metric: a route with it loses to any other route for the same prefix. */
export const LAST_METRIC = 0xffff_ffff;

export interface UnreachableRouteOptions extends RouteOptions {
  /** Route metric, 0..2^32-1 (default LAST_METRIC: behind every other route for the prefix). */
  metric?: number;
}

function changeUnreachableRoute(add: boolean, destination: string | Cidr, options: UnreachableRouteOptions): void {
  const cidr = cidrNetwork(asCidr(destination));
  const table = routeTable(options);
  const metric = options.metric ?? LAST_METRIC;
  if (!Number.isInteger(metric) || metric < 0 || metric > LAST_METRIC) {
    throw new TunConfigError('ERR_TUN_ROUTE_METRIC', `route metric ${metric} is not an integer in 0..${LAST_METRIC}`);
  }
  const where = `${table === MAIN_TABLE ? '' : ` table ${table}`} metric ${metric}`;
  const what = `${add ? 'adding' : 'removing'} route unreachable ${formatCidr(cidr)}${where}`;
  callNative(() => native().changeUnreachableRoute(add, cidr.address, cidr.prefix, table, metric, what));
}

/**
 * Adds an unreachable route to `destination` (`ip route add unreachable …`): it goes through no
 * interface, so it outlives every device, and what it matches is refused (EHOSTUNREACH for
 * IPv4 and ENETUNREACH for IPv6 to local senders, ICMP unreachable to forwarded packets) instead
 * of falling through to another table. Behind a device's route for the same prefix (the default metric), it takes over when
 * that device is deleted and its routes go with it.
 */
export function addUnreachableRoute(destination: string | Cidr, options: UnreachableRouteOptions = {}): void {
  changeUnreachableRoute(true, destination, options);
}

/** Removes what addUnreachableRoute added (same destination, table and metric); ESRCH when absent. */
export function removeUnreachableRoute(destination: string | Cidr, options: UnreachableRouteOptions = {}): void {
  changeUnreachableRoute(false, destination, options);
}

/** The routes through the interface in one table (default main), as "10.0.0.0/8". */
export function listRoutes(name: string, options: RouteOptions = {}): string[] {
  const table = routeTable(options);
  return callNative(() => native().listRoutes(index(name), table)).map(
    (p) => `${formatIpAddress(p.address)}/${p.prefix}`,
  );
}

/** Reads the interface's configuration back from the kernel. */
export function interfaceState(name: string): InterfaceState {
  const i = index(name);
  const link = callNative(() => native().getLink(i));
  const text = (p: { address: Uint8Array; prefix: number }) => `${formatIpAddress(p.address)}/${p.prefix}`;
  return {
    name: link.name,
    index: i,
    mtu: link.mtu,
    txQueueLen: link.txQueueLen,
    up: link.up,
    addresses: callNative(() => native().listAddresses(i)).map(text),
    routes: callNative(() => native().listRoutes(i, MAIN_TABLE)).map(text),
  };
}
