// @tunkit/tun-windows: the Tun contract on Windows — a WinTun session with a dedicated receive
// thread, batches to JS with one wake-up each, IP Helper configuration.

import { TunConfigError } from '@tunkit/tun-core';
import { openWindowsTun } from './open.js';
import type { WindowsTunOptions } from './options.js';
import type { WindowsTun } from './windows-tun.js';

export { formatGuid, parseGuid } from './guid.js';
export { DEFAULT_RING_CAPACITY, MAX_RING_CAPACITY, MIN_RING_CAPACITY, type WindowsTunOptions } from './options.js';
export { WindowsTun, type WindowsTunStats } from './windows-tun.js';

/**
 * Creates (or opens) a WinTun adapter, starts a session with its receive thread, and configures
 * MTU, addresses and routes through IP Helper. Needs Administrator rights and wintun.dll (see
 * the README). Throws TunConfigError for bad options or a missing wintun.dll (saying where it
 * looked), and TunOsError (Win32 error name in `errno`) when Windows refuses.
 */
export async function openTun(options: WindowsTunOptions = {}): Promise<WindowsTun> {
  if (process.platform !== 'win32') {
    throw new TunConfigError(
      'ERR_TUN_PLATFORM_UNSUPPORTED',
      `@tunkit/tun-windows runs on Windows only (this is ${process.platform}): install the package for this platform instead`,
    );
  }
  return openWindowsTun(options);
}
