// @tunkit/tun-android: the Tun contract on Android. The app's VpnService creates the TUN device
// (apps cannot open /dev/tun themselves) and hands its fd to Node; fromFd adopts it and moves
// packets with tun-core's fd-readiness loop on Node's event loop. See README.md for the host side.

import { TunConfigError, type TunOptions } from '@tunkit/tun-core';
import { AndroidTun } from './android-tun.js';
import { callNative, native } from './native.js';
import { type AndroidFromFdOptions, validateFromFd } from './options.js';

export { AndroidTun, type AndroidTunStats } from './android-tun.js';
export type { AndroidFromFdOptions } from './options.js';

/**
 * Adopts the TUN fd from `VpnService.Builder#establish().detachFd()`: makes it non-blocking and
 * owns it from here on (close() closes it; the app must not close it too). Throws TunConfigError
 * for bad arguments and TunOsError when the fd is not open or cannot be watched; the fd then
 * stays the caller's.
 */
export function fromFd(fd: number, options: AndroidFromFdOptions = {}): AndroidTun {
  const o = validateFromFd(fd, options);
  const name = o.name ?? (native().tunInterfaceName(o.fd) || 'tun');
  const tunRef: { tun?: AndroidTun } = {};
  const device = callNative(
    () =>
      new (native().FdDevice)(
        o.fd,
        {
          mtu: o.mtu,
          framing: 'none',
          pendingPackets: o.pendingPackets,
          retryIntervalMs: o.retryIntervalMs,
          stallBudgetMs: o.stallBudgetMs,
          duplicate: false,
        },
        () => tunRef.tun?.onWake(),
      ),
  );
  const tun = new AndroidTun(device, name, o.mtu);
  tunRef.tun = tun;
  return tun;
}

/**
 * Every tunkit platform package exports openTun; on Android it cannot open anything: only the
 * app's VpnService may create a TUN device. Always throws TunConfigError (ERR_TUN_ANDROID_VPNSERVICE).
 */
export async function openTun(_options: TunOptions = {}): Promise<AndroidTun> {
  throw new TunConfigError(
    'ERR_TUN_ANDROID_VPNSERVICE',
    "Android TUN devices come only from the app's VpnService: call VpnService.Builder#establish(), pass detachFd() to Node and use fromFd(fd, { mtu }) from @tunkit/tun-android (see its README)",
  );
}
