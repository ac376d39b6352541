// Interface configuration over rtnetlink (through the addon — no shelling out to `ip`):
// addresses, MTU, up/down, txqueuelen, routes, and reading them back.

import { type Cidr, cidrNetwork, formatCidr, formatIpAddress, parseCidr } from '@tunkit/tun-core';
import { callNative, native } from './native.js';

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

export function setMtu(name: string, mtu: number): void {
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

/** Adds a route to `destination` (host bits are cleared) through the interface. */
export function addRoute(name: string, destination: string | Cidr): void {
  const cidr = cidrNetwork(asCidr(destination));
  callNative(() =>
    native().changeRoute(true, index(name), cidr.address, cidr.prefix, `adding route ${formatCidr(cidr)} dev ${name}`),
  );
}

export function removeRoute(name: string, destination: string | Cidr): void {
  const cidr = cidrNetwork(asCidr(destination));
  callNative(() =>
    native().changeRoute(
      false,
      index(name),
      cidr.address,
      cidr.prefix,
      `removing route ${formatCidr(cidr)} dev ${name}`,
    ),
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
    routes: callNative(() => native().listRoutes(i)).map(text),
  };
}
