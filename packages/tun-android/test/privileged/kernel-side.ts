// Test helpers for the kernel side of an AndroidTun on Linux: the test's own network namespace
// (tun-core's testing/kernel-side.ts, shared with tun-linux) and a single-queue TUN fd opened the
// way VpnService hands one over.

import { enterPrivilegedNamespace, type TestNamespace } from '@tunkit/tun-core/testing';
import { callNative, native } from '../../src/native.js';

export { payloadSequence, sendUdp, udpSocket } from '@tunkit/tun-core/testing';

/** tun-core's enterPrivilegedNamespace, entered with the test addon's setns. */
export function enterTestNamespace(
  what: string,
  options: { ipv6?: boolean } = {},
): { skip: string | false; ns?: TestNamespace } {
  return enterPrivilegedNamespace(
    what,
    (name) => callNative(() => native().enterNetworkNamespace(`/var/run/netns/${name}`)),
    { prefix: 'ta', ...options },
  );
}

/**
 * A single-queue TUN device `name` (IFF_TUN | IFF_NO_PI, as VpnService creates it) with the given
 * addresses, up; returns its fd, blocking like detachFd()'s. The device goes away with its last fd.
 */
export function openKernelTun(ns: TestNamespace, name: string, addresses: string[], mtu = 1420): number {
  const fd = callNative(() => native().openTestTun(name));
  for (const address of addresses) ns.exec('ip', ['addr', 'add', address, 'dev', name, 'nodad']);
  ns.exec('ip', ['link', 'set', name, 'mtu', String(mtu), 'up']);
  return fd;
}
