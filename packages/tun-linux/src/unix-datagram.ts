// One datagram to an AF_UNIX datagram socket (node:dgram has no AF_UNIX): what a daemon needs to
// tell systemd it is ready, reloading or stopping (sd_notify(3) writes to $NOTIFY_SOCKET).

import { TunConfigError } from '@tunkit/tun-core';
import { callNative, native } from './native.js';

/**
 * Sends `data` as one datagram to the AF_UNIX socket at `path` ('@name': the abstract namespace,
 * as systemd writes it in $NOTIFY_SOCKET). Throws TunOsError (ENOENT, ECONNREFUSED, EMSGSIZE...)
 * naming the path, TunConfigError for a path that is empty or longer than 107 bytes.
 */
export function sendUnixDatagram(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (path.length === 0 || Buffer.byteLength(path) > 107) {
    throw new TunConfigError('ERR_UNIX_PATH', `unix socket path '${path}' is empty or longer than 107 bytes`);
  }
  callNative(() => native().sendUnixDatagram(path, bytes));
}
