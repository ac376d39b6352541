// AndroidTun: tun-core's FdTun (the Tun contract over the fd-readiness loop, with its own
// txDeferred and rxInvalid counters) on the fd VpnService hands over, framed as plain IP packets.

import { FdTun, type FdTunStats } from '@tunkit/tun-core';

/** TunStats plus the fd loop's txDeferred and rxInvalid (tun-core's FdTunStats). */
export type AndroidTunStats = FdTunStats;

/** A TUN device over a VpnService fd. Make one with fromFd(). */
export class AndroidTun extends FdTun {}
