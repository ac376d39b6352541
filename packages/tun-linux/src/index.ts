// @tunkit/tun-linux: the Tun contract on Linux — IFF_MULTI_QUEUE, one native thread per queue,
// flow-affine writes, rtnetlink configuration.

import { TunOsError } from '@tunkit/tun-core';
import * as config from './interface-config.js';
import { LinuxTun } from './linux-tun.js';
import { callNative, native } from './native.js';
import { type LinuxTunOptions, validateOptions } from './options.js';

export * from './interface-config.js';
export { LinuxTun, type LinuxTunOffload, type LinuxTunStats } from './linux-tun.js';
export type { LinuxTunOptions } from './options.js';
export * from './policy-rules.js';
export * from './unix-datagram.js';

/**
 * Opens a multi-queue TUN device, configures it (MTU, txqueuelen, addresses, routes, up) over
 * rtnetlink, and starts one native thread per queue. Throws TunConfigError for bad options and
 * TunOsError (with errno, syscall and what to do) when the OS refuses.
 */
export async function openTun(options: LinuxTunOptions = {}): Promise<LinuxTun> {
  const o = validateOptions(options);
  const tunRef: { tun?: LinuxTun } = {};
  const device = callNative(
    () =>
      new (native().TunDevice)(
        {
          ...(o.name !== undefined ? { name: o.name } : {}),
          queues: o.queues,
          mtu: o.mtu,
          inboundSlots: o.inboundSlots,
          outboundSlots: o.outboundSlots,
          offload: o.offload,
        },
        () => tunRef.tun?.onWake(),
      ),
  );
  const tun = new LinuxTun(device, o.mtu, o.queues);
  tunRef.tun = tun;
  try {
    config.setMtu(tun.name, o.mtu);
    config.setTxQueueLen(tun.name, o.txQueueLen);
    for (const { cidr } of o.addresses) config.addAddress(tun.name, cidr);
    if (o.up) config.setUp(tun.name, true);
    // Routes need the interface up (the kernel refuses routes via a down link).
    for (const { cidr } of o.routes) config.addRoute(tun.name, cidr);
  } catch (error) {
    await tun.close();
    throw error;
  }
  return tun;
}

/**
 * Moves the calling JS thread into the named network namespace (`ip netns add NAME`): devices,
 * sockets, native threads and child processes created afterwards live there. For tests and tools.
 */
export function enterNetworkNamespace(name: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new TunOsError('EINVAL', 'setns', `network namespace name '${name}' is not a plain name`);
  }
  callNative(() => native().enterNetworkNamespace(`/var/run/netns/${name}`));
}
