// The daemon's watcher: logs each completed handshake (by peer label, never by key) and, once,
// that the kernel refused a coalesced TUN write. Runs on the JS thread, every 250 ms.

import type { Tun } from '@tunkit/tun-core';
import type { Device } from '@tunkit/wireguard';
import type { Logger } from './logger.js';

/** How often the watcher asks the Tun whether the kernel refused a coalesced write (a netlink call on Linux). */
const COALESCING_CHECK_TICKS = 4; // × 250 ms

/** Logs each completed handshake (by peer label, never by key), and once if the kernel refused coalescing. */
export function watchHandshakes(
  device: Pick<Device, 'engine'>,
  tun: Pick<Tun, 'stats'>,
  log: Pick<Logger, 'info' | 'warn'>,
): NodeJS.Timeout {
  const seen = new Map<unknown, number>();
  // Coalesced writes exist only with TSO; LinuxTun.stats() also reads the kernel's counters over
  // netlink, so it is asked once a second, not at every tick, and never again once it said yes.
  let coalescingReported = (tun as { offload?: { tso?: boolean } }).offload?.tso !== true;
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    if (
      !coalescingReported &&
      ticks % COALESCING_CHECK_TICKS === 0 &&
      (tun.stats() as { coalescingRefused?: boolean }).coalescingRefused
    ) {
      coalescingReported = true;
      log.warn(
        'the kernel refused a coalesced TUN write: writing one packet per frame from now on (offload reads stay on)',
      );
    }
    for (const peer of device.engine.peers()) {
      const at = peer.lastHandshakeWallMs;
      if (at !== 0 && seen.get(peer) !== at) {
        seen.set(peer, at);
        const label = device.engine.allowedIps.prefixesOf(peer)[0] ?? 'peer';
        const endpoint = peer.endpoint ? `${peer.endpoint.address}:${peer.endpoint.port}` : undefined;
        log.info({ peer: label, endpoint }, 'handshake completed');
      }
    }
  }, 250);
  timer.unref();
  return timer;
}
