// Validation of fromFd's arguments, in TS before anything native runs, so bad input gets a typed
// TunConfigError naming the value and never reaches the addon.

import {
  checkFdWriteQueue,
  checkInterfaceName,
  checkMtu,
  type FdWriteQueueOptions,
  TunConfigError,
  type ValidatedFdWriteQueue,
} from '@tunkit/tun-core';

export interface AndroidFromFdOptions extends FdWriteQueueOptions {
  /**
   * The MTU the VpnService.Builder was given (`setMtu`), 68..65535, default 1420. Packets longer
   * than this are refused by `send` and dropped (counted) when read.
   */
  mtu?: number;
  /** Interface name to report; default: what the kernel says (TUNGETIFF), else "tun". */
  name?: string;
}

export interface ValidatedFromFd extends ValidatedFdWriteQueue {
  fd: number;
  mtu: number;
  name: string | undefined;
}

export function validateFromFd(fd: unknown, options: AndroidFromFdOptions): ValidatedFromFd {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new TunConfigError(
      'ERR_TUN_FD',
      `fromFd needs the integer file descriptor from VpnService.establish().detachFd(), got ${String(fd)}`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new TunConfigError('ERR_TUN_OPTION', `fromFd options must be an object, got ${String(options)}`);
  }
  return { fd, mtu: checkMtu(options.mtu), name: checkInterfaceName(options.name), ...checkFdWriteQueue(options) };
}
