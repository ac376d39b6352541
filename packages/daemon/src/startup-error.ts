// Startup errors: one line each, saying what to do. Whatever stops the daemon before it runs
// (bad option, bad config, missing privileges or platform package, port in use) ends up here.

import { TunConfigError, TunOsError } from '@tunkit/tun-core';
import { BindPortInUseError } from '@tunkit/wireguard';

/** An error whose message is already the one line to print. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/**
 * The StartupError for a UAPI socket that could not be made. Without root (e.g. with only
 * CAP_NET_ADMIN from setcap) /var/run/wireguard cannot be created or written: CAP_NET_ADMIN is
 * not what is missing, so the line says what is. Other errors (a live socket) pass through.
 */
export function uapiStartupError(error: unknown, dir: string, name: string): unknown {
  const e = error as { errno?: unknown; code?: unknown };
  const code = typeof e.errno === 'string' ? e.errno : e.code;
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') return error;
  return new StartupError(
    `cannot create the UAPI socket ${dir}/${name}.sock (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}): ` +
      `run as root, or create ${dir} writable by this user (sudo install -d -o "$(id -un)" -m 0755 ${dir}), ` +
      'or pass --no-uapi (then `wg show` cannot see the interface)',
  );
}

/** The one line printed for an error that stopped the daemon from starting. */
export function startupErrorLine(program: string, error: unknown): string {
  let message: string;
  if (error instanceof StartupError || error instanceof TunConfigError) {
    message = error.message;
  } else if (error instanceof BindPortInUseError) {
    // The bind names the port; the daemon knows which of its own options moves it.
    message = `UDP port ${error.port} is in use by another process: pick another with --listen-port or ListenPort=`;
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
