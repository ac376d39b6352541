// openBind: the one way to get a UDP Bind for a Device. It picks the native Linux bind
// (recvmmsg/sendmmsg with UDP GSO/GRO) where it runs and is wanted, else node:dgram's UdpBind, and
// the result says which (`backend`). It owns what every caller would otherwise repeat: a host
// without IPv6 gets an IPv4 socket, and a taken port is BindPortInUseError, whichever backend.

import { isIPv6 } from 'node:net';
import { TunOsError } from '@tunkit/tun-core';
import { nativeLoadFailure } from '../native.js';
import { datagramSizeFor } from '../protocol/constants.js';
import { LinuxUdpBind } from './linux-udp-bind.js';
import { UdpBind } from './udp-bind.js';

/** A Bind's implementation: the native Linux one, or node:dgram's. */
export type BindBackend = 'native' | 'dgram';

export interface OpenBindOptions {
  /** Local port; 0 picks an ephemeral one (default 0). */
  port?: number;
  /**
   * Local address. Default: "::" dual-stack, or "0.0.0.0" where the host has no IPv6 (the socket
   * cannot be made or bound: EAFNOSUPPORT, EADDRNOTAVAIL).
   */
  address?: string;
  /**
   * true: a dual-stack IPv6 socket, nothing else; false: IPv4 only. Default: the family of `address`
   * when given, else dual-stack, else IPv4.
   */
  ipv6?: boolean;
  /** 'native' (default): the native bind where it runs (Linux, with the addon built), else node:dgram; 'dgram': node:dgram. */
  backend?: BindBackend;
  /** Largest datagram received and sent, in bytes (default 2048, or what `mtu` needs). */
  maxDatagram?: number;
  /**
   * The tunnel MTU the Bind is for: maxDatagram becomes at least datagramSizeFor(mtu), so a
   * jumbo MTU's datagrams are carried (a Device refuses a Bind that cannot carry its MTU).
   */
  mtu?: number;
  /** Socket buffer sizes in bytes (each backend's default when unset). */
  socketBuffer?: number;
  /** Native receive threads once the data plane runs (LinuxUdpBind's receiveThreads; node:dgram has none). */
  receiveThreads?: number;
}

/** What openBind returns: a Bind that says which backend it is. */
export type OpenedBind = LinuxUdpBind | UdpBind;

/** Why the native bind cannot be used here (a sentence to log), or undefined when it can. */
export function nativeBindUnavailable(): string | undefined {
  if (process.platform !== 'linux') {
    return `the native UDP bind is Linux only (this is ${process.platform}): node:dgram is used`;
  }
  const failure = nativeLoadFailure();
  return failure === undefined ? undefined : `the native UDP bind needs the addon: ${failure}`;
}

/**
 * Opens a UDP Bind: native where `backend` allows and it is available (see nativeBindUnavailable),
 * else node:dgram. Throws BindPortInUseError for a taken port, TunConfigError for bad options,
 * TunOsError when the OS refuses otherwise.
 */
export async function openBind(options: OpenBindOptions = {}): Promise<OpenedBind> {
  const native = (options.backend ?? 'native') === 'native' && nativeBindUnavailable() === undefined;
  const open = (ipv6: boolean | undefined): Promise<OpenedBind> => {
    const common = {
      port: options.port,
      address: options.address,
      ipv6,
      maxDatagram:
        options.maxDatagram ?? (options.mtu === undefined ? undefined : Math.max(2048, datagramSizeFor(options.mtu))),
      socketBuffer: options.socketBuffer,
    };
    return native ? LinuxUdpBind.open({ ...common, receiveThreads: options.receiveThreads }) : UdpBind.open(common);
  };
  if (options.ipv6 !== undefined) return open(options.ipv6);
  // A local address says the family (the same for both backends: node:dgram cannot bind an IPv4
  // address to an IPv6 socket); without one, dual-stack where the host has IPv6.
  if (options.address !== undefined) return open(isIPv6(options.address));
  return dualStackOrIpv4(open);
}

/**
 * `open(true)`, or `open(false)` when the host has no IPv6: the kernel refuses an IPv6 socket
 * (EAFNOSUPPORT, IPv6 disabled at boot) or "::" (EADDRNOTAVAIL). Any other error passes.
 */
export async function dualStackOrIpv4<T>(open: (ipv6: boolean) => Promise<T>): Promise<T> {
  try {
    return await open(true);
  } catch (error) {
    if (error instanceof TunOsError && (error.errno === 'EAFNOSUPPORT' || error.errno === 'EADDRNOTAVAIL')) {
      return open(false);
    }
    throw error;
  }
}
