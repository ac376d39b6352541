// What the daemon uses of @tunkit/tun-linux for host configuration. The package is loaded at run
// time (it is the platform package on Linux), so only its type is imported here.

import type * as TunLinux from '@tunkit/tun-linux';

export type LinuxHostApi = Pick<
  typeof TunLinux,
  | 'addRoute'
  | 'removeRoute'
  | 'addUnreachableRoute'
  | 'removeUnreachableRoute'
  | 'addRule'
  | 'removeRule'
  | 'removeAddress'
  | 'interfaceState'
  | 'sendUnixDatagram'
>;

/** True when `module` (the loaded platform package) offers the Linux host API. */
export function isLinuxHostApi(module: unknown): module is LinuxHostApi {
  const m = module as Partial<LinuxHostApi>;
  return typeof m.addRule === 'function' && typeof m.addRoute === 'function' && typeof m.interfaceState === 'function';
}

/** Runs `body`, ignoring the OS errors listed (e.g. ENOENT when removing what is already gone). */
export function ignoring<T>(errnos: readonly string[], body: () => T): T | undefined {
  try {
    return body();
  } catch (error) {
    if (errnos.includes((error as { errno?: string }).errno ?? '')) return undefined;
    throw error;
  }
}
