// The only file that loads the tun-android addon. Everything native goes through `native` below;
// errors thrown by the addon become tun-core's TunOsError through callNative (tun-core's native-addon.ts).

import { fileURLToPath } from 'node:url';
import { callNative, loadNativeAddon, type NativeAddonHint, type NativeBatchDevice } from '@tunkit/tun-core';

/** Options of tun-core's FdDevice (native/include/tunkit/fd_device_object.hh), validated in options.ts. */
export interface NativeFdDeviceOptions {
  mtu: number;
  framing: 'none';
  pendingPackets: number;
  retryIntervalMs: number;
  stallBudgetMs: number;
  duplicate: false;
}

interface Addon {
  FdDevice: new (fd: number, options: NativeFdDeviceOptions, onWake: () => void) => NativeBatchDevice;
  /** The interface name behind a TUN fd (TUNGETIFF), or '' when the kernel will not say. */
  tunInterfaceName(fd: number): string;
  /** Test support (test/privileged/): a single-queue IFF_TUN | IFF_NO_PI fd, and entering a namespace. */
  openTestTun(name: string): number;
  enterNetworkNamespace(path: string): void;
}

const PACKAGE = '@tunkit/tun-android';

const HINT: NativeAddonHint = {
  build:
    "build it for the device with the host app's toolchain (nodejs-mobile builds addons with its own node-gyp), or 'npx node-gyp rebuild --directory=native' inside the package",
};

let addon: Addon | undefined;

/** The addon, loaded on first use. */
export function native(): Addon {
  addon ??= loadNativeAddon<Addon>(PACKAGE, fileURLToPath(new URL('../native', import.meta.url)), HINT);
  return addon;
}

export { callNative };
