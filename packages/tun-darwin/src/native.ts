// The only file that loads the tun-darwin addon. Everything native goes through `native` below;
// errors thrown by the addon become tun-core's TunOsError through callNative (tun-core's native-addon.ts).

import { fileURLToPath } from 'node:url';
import {
  callNative,
  loadNativeAddon,
  type NativeAddonHint,
  type NativeBatchDevice,
  TunConfigError,
} from '@tunkit/tun-core';

/** Options of tun-core's FdDevice (native/include/tunkit/fd_device_object.hh), validated in options.ts. */
export interface NativeFdDeviceOptions {
  mtu: number;
  framing: 'darwin';
  pendingPackets: number;
  retryIntervalMs: number;
  stallBudgetMs: number;
  /** Work on a dup of the fd and leave the original to its owner. */
  duplicate: boolean;
}

/** The macOS-only exports (native/utun.hh); absent elsewhere. */
export interface UtunAddon {
  openUtun(unit: number): { fd: number; name: string };
  utunName(fd: number): string;
  setMtu(name: string, mtu: number): void;
  setUp(name: string): void;
  addAddress(name: string, address: Uint8Array, prefix: number): void;
  addRoute(name: string, network: Uint8Array, prefix: number, existingIsFine: boolean): void;
}

interface Addon extends Partial<UtunAddon> {
  FdDevice: new (fd: number, options: NativeFdDeviceOptions, onWake: () => void) => NativeBatchDevice;
  /** Test support (test/): a socketpair(AF_UNIX, SOCK_DGRAM) standing in for utun, [device, peer]. */
  openTestSocketPair(): [number, number];
  setSendBuffer(fd: number, bytes: number): number;
  /** Test support: shutdown(SHUT_RDWR) on the socket, as the kernel disconnects a utun socket whose interface goes. */
  shutdownTestSocket(fd: number): void;
}

const PACKAGE = '@tunkit/tun-darwin';

const HINT: NativeAddonHint = {
  build:
    "build it with 'npx node-gyp rebuild --directory=native' inside the package (needs the Xcode command line tools: xcode-select --install)",
};

let addon: Addon | undefined;

/** The addon, loaded on first use. */
export function native(): Addon {
  addon ??= loadNativeAddon<Addon>(PACKAGE, fileURLToPath(new URL('../native', import.meta.url)), HINT);
  return addon;
}

/** The macOS-only exports, or a TunConfigError saying utun exists only there. */
export function utun(what: string): UtunAddon {
  const a = native();
  if (process.platform !== 'darwin' || a.openUtun === undefined) {
    throw new TunConfigError(
      'ERR_TUN_PLATFORM_UNSUPPORTED',
      `${what} needs macOS (utun), and this is ${process.platform}: use the tunkit package for this platform (@tunkit/tun-linux on Linux)`,
    );
  }
  return a as Addon & UtunAddon;
}

export { callNative };
