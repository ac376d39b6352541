// Test helpers for the kernel side of an AndroidTun on Linux: the test's own network namespace,
// a single-queue TUN fd opened the way VpnService hands one over, and UDP sockets that send into
// and receive from the device.

import { createSocket, type Socket } from 'node:dgram';
import { createNamespace, privilegedSuite, type TestNamespace } from '@tunkit/tun-core/testing';
import { callNative, native } from '../../src/native.js';

/**
 * For a privileged test file: checks privileges (skip outside CI, fail in CI), then creates a
 * namespace and moves this process into it, so every device and socket the file makes lives
 * there. IPv6 is off unless asked for: link-local chatter (MLD, router solicitations) would
 * otherwise reach the devices.
 */
export function enterTestNamespace(
  what: string,
  options: { ipv6?: boolean } = {},
): { skip: string | false; ns?: TestNamespace } {
  const suite = privilegedSuite(what);
  if (suite.skip) return suite;
  const ns = createNamespace('ta');
  if (!options.ipv6)
    ns.exec('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1']);
  callNative(() => native().enterNetworkNamespace(`/var/run/netns/${ns.name}`));
  process.once('exit', () => ns.destroy());
  return { skip: false, ns };
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

/** The sequence number at the start of a payload built by tun-core's sequencePayload. */
export function payloadSequence(payload: Uint8Array): number | undefined {
  if (payload.length < 8) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return view.getUint32(0) === 0x544b5351 ? view.getUint32(4) : undefined;
}

export async function udpSocket(address: string, port: number, receiveBuffer = 8 * 1024 * 1024): Promise<Socket> {
  const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', recvBufferSize: receiveBuffer });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  return socket;
}

export function sendUdp(socket: Socket, payload: Uint8Array, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(payload, port, address, (error) => (error ? reject(error) : resolve())),
  );
}
