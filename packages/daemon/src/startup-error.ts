// Startup errors: one line each, saying what to do. Whatever stops the daemon before it runs
// (bad option, bad config, missing privileges or platform package, port in use) ends up here.

import { TunConfigError, TunOsError } from '@tunkit/tun-core';

/** An error whose message is already the one line to print. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** The one line printed for an error that stopped the daemon from starting. */
export function startupErrorLine(program: string, error: unknown): string {
  let message: string;
  if (error instanceof StartupError || error instanceof TunConfigError) {
    message = error.message;
  } else if (error instanceof TunOsError) {
    message = error.message;
    if ((error.errno === 'EPERM' || error.errno === 'EACCES') && !/root|CAP_NET_ADMIN/.test(message)) {
      message += ': run as root, or grant CAP_NET_ADMIN (sudo setcap cap_net_admin+ep "$(command -v node)")';
    }
  } else if (error instanceof Error) {
    message = `unexpected error: ${error.message}`;
  } else {
    message = `unexpected error: ${String(error)}`;
  }
  return `${program}: ${message.replace(/\s*\n\s*/g, ' ')}`;
}
