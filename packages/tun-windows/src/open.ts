// Opening a WinTun device: validate, create the adapter and session (the addon starts the receive
// thread), then configure MTU, addresses and routes through IP Helper; close it on any failure.

import { callNative, native } from './native.js';
import { validateOptions, type WindowsTunOptions } from './options.js';
import { WindowsTun } from './windows-tun.js';

/** openTun without the platform check (tests use it over the fake WinTun on Linux). */
export async function openWindowsTun(options: WindowsTunOptions = {}): Promise<WindowsTun> {
  const o = validateOptions(options);
  const tunRef: { tun?: WindowsTun } = {};
  const device = callNative(
    () =>
      new (native().WintunDevice)(
        {
          name: o.name,
          ...(o.guid !== undefined ? { guid: o.guid } : {}),
          ringCapacity: o.ringCapacity,
          mtu: o.mtu,
          inboundSlots: o.inboundSlots,
          pendingSlots: o.pendingSlots,
          sendRetryMicros: o.sendRetryMicros,
          dllPaths: o.dllPaths,
        },
        () => tunRef.tun?.onWake(),
      ),
  );
  const tun = new WindowsTun(device, o.name, o.mtu);
  tunRef.tun = tun;
  try {
    tun.setMtu(o.mtu);
    for (const { cidr } of o.addresses) tun.addAddress(cidr);
    for (const { cidr } of o.routes) tun.addRoute(cidr, o.routeMetric);
  } catch (error) {
    await tun.close();
    throw error;
  }
  return tun;
}
