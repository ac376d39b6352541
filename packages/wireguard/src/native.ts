// The only file that loads the wireguard addon (native/): ChaCha20-Poly1305 over a whole batch
// (every OS), and on Linux the batch UDP socket under LinuxUdpBind. The addon is optional: where
// it does not load, the AEAD falls back to node:crypto and openBind to node:dgram, and each says so.
// Errors the socket throws for a failed OS call become tun-core's TunOsError through callNative.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callNative, loadNativeAddon, type NativeAddonHint, TunConfigError } from '@tunkit/tun-core';

/** The options baton of `new UdpSocket(...)` (native/linux/udp_socket_object.cc). */
export interface NativeUdpSocketOptions {
  /** 4 or 16 bytes. */
  address: Uint8Array;
  port: number;
  ipv6: boolean;
  bufferBytes: number;
  gso: boolean;
  gro: boolean;
  /** 1..16: above 1, an SO_REUSEPORT group of that many receiving sockets once nativePort is called. */
  receiveThreads: number;
}

/** The batch UDP socket; its calls are described in linux-udp-bind.ts, which is its only user. */
export interface NativeUdpSocket {
  port(): number;
  recv(
    buffer: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    meta: Uint32Array,
    addresses: Uint8Array,
    maxDatagram: number,
  ): number;
  send(
    buffer: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    start: number,
    end: number,
    addresses: Uint8Array,
  ): [taken: number, errors: number, messages: number, badEndpoints: number];
  gro(): boolean;
  /** SO_MARK; throws (TunOsError through callNative) EPERM without CAP_NET_ADMIN. */
  setMark(mark: number): void;
  mark(): number;
  poll(readable: boolean, writable: boolean): void;
  /** The packet port (a tagged external); the first call starts the receive thread. */
  nativePort(maxDatagram: number, onPunted: () => void): unknown;
  drainPunted(
    buffer: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    meta: Uint32Array,
    addresses: Uint8Array,
  ): number;
  /** txDatagrams, txBytes, txMessages, txErrors, txDropped, txBadEndpoints, rxDatagrams, rxBytes, rxMessages, rxDropped, rxBadSources. */
  portStats(): Float64Array;
  close(): void;
}

/** A keypair handed to the native data plane (dataplane/data_plane_object.cc's setKeypairs). */
export interface NativeKeypairSpec {
  localIndex: number;
  remoteIndex: number;
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
  /** Until REJECT_AFTER_TIME. */
  remainingMs: number;
  /** 0 previous, 1 current, 2 next. */
  role: 0 | 1 | 2;
  /** The next send counter. */
  counter: number;
  replayBitmap: Uint32Array;
  replayLast: number;
}

/** The native data plane (dataplane/data_plane.hh); its calls are described in device/data-plane.ts, its only user. */
export interface NativeDataPlane {
  setSettings(mtu: number, allowPeerToPeer: boolean, rejectAfterMessages: number): void;
  setPeer(slot: number, endpoint: Uint8Array | null): void;
  removePeer(slot: number): void;
  setKeypairs(slot: number, keypairs: NativeKeypairSpec[]): void;
  setRoutes(entries: Uint8Array): void;
  takeCounter(localIndex: number): number;
  acceptCounter(localIndex: number, counter: number): boolean;
  activity(out: Float64Array): number;
  endpointOf(slot: number, out: Uint8Array): boolean;
  resetUnanswered(slot: number): void;
  exportKeypair(localIndex: number, bitmap: Uint32Array): [number, number] | null;
  drops(out: Float64Array): void;
  attach(): void;
  /** Records each batch's times (native/dataplane/trace_ring.hh) from now on, or stops. */
  trace(on: boolean): void;
  /** Copies the recorded events, oldest first, dataPlaneTraceFields numbers each; returns how many. */
  traceEvents(out: Float64Array): number;
  close(): void;
}

interface Addon {
  sealMany(...args: unknown[]): void;
  openMany(...args: unknown[]): number;
  /** OpenSSL's version string: the library Node links, which does the AEAD. */
  openssl: string;
  /** XChaCha20-Poly1305 of `plaintext` into out[outOffset..] (ciphertext, then the tag): cookie replies. */
  xsealInto(
    key: Uint8Array,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): void;
  /** Linux only. */
  UdpSocket?: new (
    options: NativeUdpSocketOptions,
    onReady: (readable: boolean, writable: boolean) => void,
  ) => NativeUdpSocket;
  /** Linux only: new DataPlane(tunPort, udpPort). */
  DataPlane?: new (
    tunPort: unknown,
    udpPort: unknown,
  ) => NativeDataPlane;
  /** Linux only: the shape of the data plane's replay windows (dataplane/replay_window.hh). */
  dataPlaneReplay?: { window: number; words: number; maxCounter: number };
  /** Linux only: numbers per event in DataPlane.traceEvents. */
  dataPlaneTraceFields?: number;
}

const PACKAGE = '@tunkit/wireguard';

const HINT: NativeAddonHint = {
  build:
    "build it from the tunkit repository ('pnpm install && pnpm --filter @tunkit/wireguard build'; needs python3, make and a C++17 compiler) and depend on that build",
};

/**
 * The package's native/ folder. Found from the package.json above this module rather than at a
 * fixed `../native`: the code runs from src/ (tests), dist/, dist/testing/ (the ./testing entry
 * bundles its own copy in CommonJS) or a chunk, each at its own depth.
 */
function nativeDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'native');
}

let loaded: Addon | TunConfigError | undefined;

function load(): Addon | TunConfigError {
  if (loaded === undefined) {
    try {
      loaded = loadNativeAddon<Addon>(PACKAGE, nativeDir(), HINT);
    } catch (error) {
      loaded = error as TunConfigError; // loadNativeAddon throws only TunConfigError
    }
  }
  return loaded;
}

/** The addon, loaded on first use; throws TunConfigError (ERR_TUN_NATIVE_MISSING) saying what to do. */
export function native(): Addon {
  const addon = load();
  if (addon instanceof TunConfigError) throw addon;
  return addon;
}

/** Why the addon does not load (the sentence a user can act on), or undefined when it does. */
export function nativeLoadFailure(): string | undefined {
  const addon = load();
  return addon instanceof TunConfigError ? addon.message : undefined;
}

export { callNative };
