// The only file that loads the tun-windows addon. On Windows it is the WinTun build; elsewhere
// it is the fake-WinTun build used by the tests (its `backend` is "fake"). Errors thrown by the
// addon become tun-core's TunOsError (Win32 error name in `errno`) or TunConfigError here.

import { fileURLToPath } from 'node:url';
import {
  loadNativeAddon,
  type NativeAddonHint,
  type NativeBatchDevice,
  nativeError,
  TunConfigError,
} from '@tunkit/tun-core';

/** tun-core's NativeBatchDevice, plus WinTun's identity and configuration calls. */
export interface NativeWintunDevice extends NativeBatchDevice {
  /** NET_LUID, decimal. */
  readonly luid: string;
  /** False when an adapter of that name existed and was opened instead. */
  readonly created: boolean;
  /** After close(): false when a thread did not stop in time (the session was left open). */
  readonly closedCleanly: boolean;
  /** True when set; false when the family has no interface row (IPv6 disabled on the adapter). */
  setMtu(family: 4 | 6, mtu: number): boolean;
  addAddress(address: Uint8Array, prefix: number): void;
  addRoute(address: Uint8Array, prefix: number, metric: number): void;
  deleteRoute(address: Uint8Array, prefix: number): void;
}

export interface NativeDeviceOptions {
  name: string;
  guid?: Uint8Array;
  ringCapacity: number;
  mtu: number;
  inboundSlots: number;
  pendingSlots: number;
  sendRetryMicros: number;
  dllPaths: string[];
}

/** The fake WinTun's OS side (fake backend only): see native/fake/fake_wintun.hh. */
export interface FakeWintun {
  inject(name: string, packet: Uint8Array): boolean;
  takeSent(name: string, max: number): Uint8Array[];
  deferUntilEmptyPolls(name: string, packet: Uint8Array, polls: number): boolean;
  delayNextReceive(name: string, milliseconds: number): boolean;
  terminate(name: string): boolean;
  failNext(call: string, win32Error: number): void;
  setDllPresent(present: boolean): void;
  state(name: string): FakeSessionState;
  openCounts(): { adapters: number; sessions: number; kernelObjects: number };
}

export interface FakeSessionState {
  exists: boolean;
  adapterOpen: boolean;
  sessionActive: boolean;
  created: boolean;
  guid: Uint8Array | null;
  luid: string;
  capacity: number;
  receiveRingPackets: number;
  receiveRingBytes: number;
  receiveHeld: number;
  sendRingPackets: number;
  injectDropped: number;
  receiveCalls: number;
  emptyReceives: number;
  overflows: number;
  callsAfterEnd: number;
  sessionsStarted: number;
  config: string[];
}

interface Addon {
  backend: 'wintun' | 'fake';
  WintunDevice: new (options: NativeDeviceOptions, onWake: () => void) => NativeWintunDevice;
  fake?: FakeWintun;
}

const PACKAGE = '@tunkit/tun-windows';

const HINT: NativeAddonHint = {
  build:
    "build it with 'npx node-gyp rebuild --directory=native' inside the package (needs Python and Visual Studio's C++ build tools)",
};

let addon: Addon | undefined;

/** The addon, loaded on first use. */
export function native(): Addon {
  addon ??= loadNativeAddon<Addon>(PACKAGE, fileURLToPath(new URL('../native', import.meta.url)), HINT);
  return addon;
}

/** The fake WinTun's controls; throws on the real (Windows) build. For tests. */
export function fakeWintun(): FakeWintun {
  const hooks = native().fake;
  if (hooks === undefined)
    throw new TunConfigError('ERR_TUN_NOT_FAKE', 'this is the real WinTun build: no fake to drive');
  return hooks;
}

/** The sentence a user can act on when wintun.dll is missing or too old. */
function wintunMessage(code: string, message: string, tried: string[]): string {
  const where = tried.map((t) => `  - ${t}`).join('\n');
  const fix =
    `Download the signed wintun.dll for ${process.arch === 'arm64' ? 'arm64' : process.arch === 'ia32' ? 'x86' : 'amd64'} from https://www.wintun.net/ ` +
    `(inside the zip: wintun/bin/<arch>/wintun.dll) and put it next to node.exe, or pass its absolute path as openTun({ dllPath }) or in TUNKIT_WINTUN_DLL.`;
  if (code === 'WINTUN_TOO_OLD') return `${message}: it is older than WinTun 0.14. ${fix}`;
  return `wintun.dll was not found. Looked in:\n${where}\n${fix}`;
}

/** Runs a native call, turning addon errors into tun-core's typed errors (WinTun's own first, then tun-core's callNative rules). */
export function callNative<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    const e = error as Error & { wintunCode?: string; tried?: string[] };
    if (typeof e.wintunCode === 'string') {
      throw new TunConfigError(
        e.wintunCode === 'WINTUN_TOO_OLD' ? 'ERR_TUN_WINTUN_TOO_OLD' : 'ERR_TUN_WINTUN_MISSING',
        wintunMessage(e.wintunCode, e.message, e.tried ?? []),
        { cause: error },
      );
    }
    throw nativeError(error);
  }
}
