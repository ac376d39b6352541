// @tunkit/tun-darwin: the Tun contract on macOS. openTun creates a utun interface through the
// kernel-control socket and configures it with ioctls and a routing socket (no ifconfig/route
// processes); fromFd adopts the utun fd a Network Extension owns. Packets move through tun-core's
// fd-readiness loop on Node's event loop, with the 4-byte address-family header handled natively.

import { closeSync } from 'node:fs';
import { cidrNetwork, type ValidatedFdWriteQueue } from '@tunkit/tun-core';
import { DarwinTun } from './darwin-tun.js';
import { callNative, type NativeFdDeviceOptions, native, utun } from './native.js';
import { type DarwinFromFdOptions, type DarwinTunOptions, validateFromFd, validateOpen } from './options.js';

export { DarwinTun, type DarwinTunStats } from './darwin-tun.js';
export type { DarwinFromFdOptions, DarwinTunOptions, WriteQueueOptions } from './options.js';

function deviceOver(
  fd: number,
  name: string,
  mtu: number,
  queue: ValidatedFdWriteQueue,
  duplicate: boolean,
): DarwinTun {
  const options: NativeFdDeviceOptions = { mtu, framing: 'darwin', duplicate, ...queue };
  const tunRef: { tun?: DarwinTun } = {};
  const device = callNative(() => new (native().FdDevice)(fd, options, () => tunRef.tun?.onWake()));
  const tun = new DarwinTun(device, name, mtu);
  tunRef.tun = tun;
  return tun;
}

/**
 * Creates a utun interface (root needed), sets its MTU, adds the addresses (each with a route to
 * its subnet, as Linux does), brings it up and adds the routes. Closing the device removes the
 * interface. Throws TunConfigError for bad options or off macOS, TunOsError when the OS refuses.
 */
export async function openTun(options: DarwinTunOptions = {}): Promise<DarwinTun> {
  const o = validateOpen(options);
  const sys = utun('openTun');
  const opened = callNative(() => sys.openUtun(o.unit));
  let tun: DarwinTun;
  try {
    tun = deviceOver(opened.fd, opened.name, o.mtu, o, false);
  } catch (error) {
    closeSync(opened.fd);
    throw error;
  }
  try {
    callNative(() => sys.setMtu(tun.name, o.mtu));
    for (const cidr of o.addresses) callNative(() => sys.addAddress(tun.name, cidr.address, cidr.prefix));
    callNative(() => sys.setUp(tun.name));
    for (const cidr of o.addresses) {
      // A point-to-point IPv4 address brings no subnet route (IPv6 may add its prefix: then it exists).
      const network = cidrNetwork(cidr);
      if (cidr.prefix < cidr.address.length * 8)
        callNative(() => sys.addRoute(tun.name, network.address, network.prefix, true));
    }
    for (const cidr of o.routes) {
      const network = cidrNetwork(cidr);
      callNative(() => sys.addRoute(tun.name, network.address, network.prefix, false));
    }
  } catch (error) {
    await tun.close();
    throw error;
  }
  return tun;
}

/**
 * Moves packets over a utun fd someone else owns, typically the one a Network Extension's packet
 * flow uses (the host finds it and passes it in). tunkit works on a duplicate, closed by close();
 * the original stays its owner's. Both share the file status flags, so the owner's fd becomes
 * non-blocking too. The name is asked from the fd unless given (off macOS it must be given).
 */
export function fromFd(fd: number, options: DarwinFromFdOptions = {}): DarwinTun {
  const o = validateFromFd(fd, options);
  const name = o.name ?? callNative(() => utun('fromFd without { name }').utunName(o.fd));
  return deviceOver(o.fd, name, o.mtu, o, true);
}
