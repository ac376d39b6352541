// The only file that loads the tun-linux addon. Everything native goes through `native` below;
// errors thrown by the addon become tun-core's TunOsError through callNative (tun-core's native-addon.ts).

import { fileURLToPath } from 'node:url';
import {
  callNative,
  loadNativeAddon,
  type NativeAddonHint,
  type NativeBatchDevice,
  nativeLoadFailureMessage,
} from '@tunkit/tun-core';

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
  /** The packet port (tun-core's packet_port.hh) in a tagged external. */
  nativePort(): unknown;
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
  enterNetworkNamespace(path: string): void;
  linkIndex(name: string): number;
  getLink(index: number): NativeLink;
  setLink(index: number, field: 'mtu' | 'txQueueLen' | 'up', value: number | boolean, what: string): void;
  changeAddress(add: boolean, index: number, address: Uint8Array, prefix: number, what: string): void;
  changeRoute(add: boolean, index: number, address: Uint8Array, prefix: number, table: number, what: string): void;
  changeUnreachableRoute(
    add: boolean,
    address: Uint8Array,
    prefix: number,
    table: number,
    metric: number,
    what: string,
  ): void;
  changeRule(add: boolean, rule: NativeRule, what: string): void;
  sendUnixDatagram(path: string, data: Uint8Array): void;
  listAddresses(index: number): NativePrefix[];
  listRoutes(index: number, table: number): NativePrefix[];
}

const PACKAGE = '@tunkit/tun-linux';

/** The published package carries a prebuilt addon for linux-x64 with glibc only; elsewhere it is built from source. */
const HINT: NativeAddonHint = {
  build:
    "build it from the tunkit repository ('pnpm install && pnpm --filter @tunkit/tun-linux build'; needs python3, make and a C++17 compiler) and depend on that build",
  onlyOn: { platform: 'linux', name: 'Linux' },
  prebuilt: { target: 'linux-x64 (glibc)', needs: 'x64 Linux with glibc 2.34 or newer (not musl/Alpine)' },
};

/** What to tell the user when the addon does not load (tun-core's nativeLoadFailureMessage for this package). */
export function loadFailureMessage(cause: unknown, platform: string, arch: string, nodeVersion: string): string {
  return nativeLoadFailureMessage(PACKAGE, HINT, cause, platform, arch, nodeVersion);
}

let addon: Addon | undefined;

/** The addon, loaded on first use. */
export function native(): Addon {
  addon ??= loadNativeAddon<Addon>(PACKAGE, fileURLToPath(new URL('../native', import.meta.url)), HINT);
  return addon;
}

export { callNative };
