// DarwinTun: tun-core's FdTun (the Tun contract over the fd-readiness loop, with its own
// txDeferred and rxInvalid counters) on a utun socket, whose 4-byte address-family header the
// loop adds and strips natively (framing 'darwin').

import { FdTun, type FdTunStats } from '@tunkit/tun-core';

/** TunStats plus the fd loop's txDeferred (utun's ENOSPC, EAGAIN) and rxInvalid (tun-core's FdTunStats). */
export type DarwinTunStats = FdTunStats;

/** A utun device. Make one with openTun() or fromFd(). */
export class DarwinTun extends FdTun {}
