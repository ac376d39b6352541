// The kernel's side of a TUN device under test on Linux, for privileged tests: moving the test
// process into a namespace of its own, UDP sockets that send into and receive from the device,
// and the contract harness built from them. tun-linux (LinuxTun) and tun-android (fromFd over a
// Linux TUN fd) use it; each passes in how its addon enters a namespace.

import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import type { Tun } from '../tun.js';
import { type TunHarness, takeCollected } from './harness.js';
import { createNamespace, type TestNamespace } from './netns.js';
import { payloadSequence, sequencePacket, sequencePayload } from './packets.js';
import { privilegedSuite } from './privileges.js';

export interface TestNamespaceOptions {
  /** Part of the namespace's name, telling whose it is (createNamespace's prefix). */
  prefix: string;
  /** Keep IPv6 on in the namespace (default off). */
  ipv6?: boolean;
}

/**
 * For a privileged test file: checks privileges (skip outside CI, fail in CI), then creates a
 * namespace and moves this process into it with `enter(name)` (the package's setns call), so every
 * device and socket the file makes lives there; the namespace goes at exit. IPv6 is off unless
 * asked for: link-local chatter (MLD, router solicitations) would otherwise reach the devices.
 */
export function enterPrivilegedNamespace(
  what: string,
  enter: (name: string) => void,
  options: TestNamespaceOptions,
): { skip: string | false; ns?: TestNamespace } {
  const suite = privilegedSuite(what);
  if (suite.skip) return suite;
  const ns = createNamespace(options.prefix);
  if (!options.ipv6)
    ns.exec('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1']);
  enter(ns.name);
  process.once('exit', () => ns.destroy());
  return { skip: false, ns };
}

/** A UDP socket bound to `address`:`port`, with a receive buffer large enough for test bursts. */
export async function udpSocket(address: string, port: number, receiveBuffer = 8 * 1024 * 1024): Promise<Socket> {
  const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', recvBufferSize: receiveBuffer });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  return socket;
}

/** Sends one datagram; resolves once the kernel took it. */
export function sendUdp(socket: Socket, payload: Uint8Array, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(payload, port, address, (error) => (error ? reject(error) : resolve())),
  );
}

/**
 * The contract harness for a TUN device `tun` whose kernel side holds the IPv4 address `local`
 * (on the device, with a prefix that routes `remote` through it). inject sends UDP from
 * local:5000 to remote:5001, which the kernel routes into the device; outbound packets go from
 * remote:5000 to local:5001, where a socket collects their sequence numbers. The device ends by
 * itself as an admin ends it: `ip link del` in the test's namespace, which the kernel answers with
 * EBADFD on every fd of the device.
 */
export async function kernelUdpHarness(
  tun: Tun,
  local: readonly number[],
  remote: readonly number[],
): Promise<TunHarness> {
  const localText = local.join('.');
  const remoteText = remote.join('.');
  const sender = await udpSocket(localText, 5000);
  const receiver = await udpSocket(localText, 5001);
  const received: number[] = [];
  receiver.on('message', (message) => {
    const seq = payloadSequence(message);
    if (seq !== undefined) received.push(seq);
  });
  return {
    tun,
    // 28: the IPv4 and UDP headers the kernel adds to the payload.
    inject: (seq, size) => sendUdp(sender, sequencePayload(seq, Math.max(8, size - 28)), 5001, remoteText),
    outbound: (seq, size) => sequencePacket(seq, size, [...remote], [...local]),
    collect: (count, timeoutMs) => takeCollected(received, count, timeoutMs),
    endByItself() {
      // The test process lives in its own namespace (enterPrivilegedNamespace), so `ip` acts there.
      execFileSync('ip', ['link', 'del', 'dev', tun.name]);
      return 'EBADFD';
    },
    async dispose() {
      sender.close();
      receiver.close();
    },
  };
}
