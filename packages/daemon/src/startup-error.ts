// Startup errors: one line each, saying what to do. Whatever stops the daemon before it runs
// (bad option, bad config, missing privileges or platform package, port in use) ends up here.

import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TunConfigError, TunOsError } from '@tunkit/tun-core';
import { BindPortInUseError } from '@tunkit/wireguard';

/** An error whose message is already the one line to print. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/**
 * The StartupError for a UAPI socket that could not be made. Without root (e.g. with only
 * CAP_NET_ADMIN from setcap) /var/run/wireguard cannot be created or written: CAP_NET_ADMIN is
 * not what is missing, so the line says what is. Something else at the socket's path (a
 * directory, a file) is not ours to remove: the line says so. Other errors (a live socket) pass
 * through.
 */
export function uapiStartupError(error: unknown, dir: string, name: string): unknown {
  const e = error as { errno?: unknown; code?: unknown };
  const code = typeof e.errno === 'string' ? e.errno : e.code;
  const path = join(dir, `${name}.sock`);
  if (code === 'EADDRINUSE') {
    const kind = kindOfPath(path);
    if (kind === undefined || kind === 'socket') return error;
    return new StartupError(
      `cannot create the UAPI socket ${path}: a ${kind} is in its place (not a socket, so not tunkit's to remove): ` +
        'remove it, pick another --name, or pass --no-uapi',
    );
  }
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') return error;
  return new StartupError(
    `cannot create the UAPI socket ${dir}/${name}.sock (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}): ` +
      `run as root, or create ${dir} writable by this user (sudo install -d -o "$(id -un)" -m 0755 ${dir}), ` +
      'or pass --no-uapi (then `wg show` cannot see the interface)',
  );
}

/**
 * The one line printed for an error that stopped the daemon from starting. `netAdmin`: whether
 * this process has CAP_NET_ADMIN (default: read from /proc; undefined where it cannot be known).
 */
export function startupErrorLine(program: string, error: unknown, netAdmin = hasNetAdmin()): string {
  let message: string;
  if (error instanceof StartupError || error instanceof TunConfigError) {
    message = error.message;
  } else if (error instanceof BindPortInUseError) {
    // The bind names the port; the daemon knows which of its own options moves it.
    message = `UDP port ${error.port} is in use by another process: pick another with --listen-port or ListenPort=`;
  } else if (error instanceof TunOsError) {
    message = error.message;
    const refused = error.errno === 'EPERM' || error.errno === 'EACCES';
    // Only a process without CAP_NET_ADMIN is told to get it: with it, the kernel refused for another reason.
    if (refused && netAdmin !== true && !/root|CAP_NET_ADMIN/.test(message)) {
      message += ': run as root, or grant CAP_NET_ADMIN (sudo setcap cap_net_admin+ep "$(command -v node)")';
    }
  } else if (error instanceof Error) {
    message = `unexpected error: ${error.message}`;
  } else {
    message = `unexpected error: ${String(error)}`;
  }
  return `${program}: ${message.replace(/\s*\n\s*/g, ' ')}`;
}

/** What is at `path`: 'socket', 'directory', 'file', 'other', or undefined when nothing is. */
function kindOfPath(path: string): 'socket' | 'directory' | 'file' | 'other' | undefined {
  try {
    const stat = lstatSync(path);
    if (stat.isSocket()) return 'socket';
    if (stat.isDirectory()) return 'directory';
    return stat.isFile() ? 'file' : 'other';
  } catch {
    return undefined;
  }
}

/** CAP_NET_ADMIN's bit in the capability sets of /proc/<pid>/status. */
const CAP_NET_ADMIN = 12n;

/** Whether this process has CAP_NET_ADMIN in effect (undefined where /proc does not say: not Linux). */
export function hasNetAdmin(status = '/proc/self/status'): boolean | undefined {
  try {
    const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(status, 'utf8'))?.[1];
    return effective === undefined ? undefined : ((BigInt(`0x${effective}`) >> CAP_NET_ADMIN) & 1n) === 1n;
  } catch {
    return undefined;
  }
}
