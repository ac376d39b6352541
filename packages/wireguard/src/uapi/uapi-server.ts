// The UAPI socket: WireGuard's cross-platform userspace API endpoint, a unix socket at
// /var/run/wireguard/<name>.sock that the stock `wg` tool talks to (`wg show`, `wg set`).
// This file is the transport only: it frames requests ("get=1\n\n" or "set=1\n<key=value lines>\n\n")
// and hands their text to a handler that answers with key=value lines ending in "errno=-N" (0 on success).
// The text protocol itself (parse set, format get) lives in ../config/uapi.ts.

import { chmodSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { TunConfigError, TunOsError } from '@tunkit/tun-core';

export const DEFAULT_UAPI_DIR = '/var/run/wireguard';
/** Largest request accepted; a longer one gets errno=EMSGSIZE and the connection is closed. */
const MAX_REQUEST_BYTES = 1 << 20;
/** Connections served at once; more wait in the kernel's listen backlog. */
const MAX_CONNECTIONS = 16;

export type UapiOperation = 'get' | 'set';

/**
 * Answers one request. `body` is the text after the "get=1"/"set=1" line, without the blank
 * line that ends the request. Returns the response lines (without the final "errno=…" line and
 * the blank line, which the server adds from `errno`: a positive errno such as 22 for EINVAL,
 * written as "errno=-22").
 */
export type UapiHandler = (operation: UapiOperation, body: string) => Promise<{ lines: string; errno: number }>;

export interface UapiServerOptions {
  /** Interface name: the socket is `<dir>/<name>.sock`. */
  name: string;
  dir?: string;
  handler: UapiHandler;
}

const NAME_PATTERN = /^[A-Za-z0-9_=+.-]{1,15}$/;

/**
 * The status line for a positive errno. It goes on the wire negated ("errno=-22"), as
 * wireguard-go writes it: `wg` negates it back into errno, so a positive value would print as
 * "Unknown error -22" instead of "Invalid argument" (checked against wireguard-tools' `wg set`).
 */
export function errnoLine(errno: number): string {
  return `errno=${errno === 0 ? 0 : -Math.abs(errno)}\n`;
}

export class UapiServer {
  readonly path: string;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(path: string, server: Server) {
    this.path = path;
    this.server = server;
  }

  /**
   * Listens on `<dir>/<name>.sock` (dir created 0755, socket created under umask 077, then 0600 —
   * root-only like wireguard-go).
   * A stale socket left by a crashed process is replaced; a live one (another process answers)
   * is an error: two daemons must not share an interface name.
   */
  static async listen(options: UapiServerOptions): Promise<UapiServer> {
    if (!NAME_PATTERN.test(options.name)) {
      throw new TunConfigError(
        'ERR_UAPI_NAME',
        `interface name '${options.name}' is not a valid name (1-15 of A-Z a-z 0-9 _=+.-)`,
      );
    }
    const dir = options.dir ?? DEFAULT_UAPI_DIR;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const path = join(dir, `${options.name}.sock`);
    if (await isLive(path)) {
      throw new TunOsError(
        'EADDRINUSE',
        'bind',
        `the UAPI socket ${path} is in use by another process: is a daemon for '${options.name}' already running?`,
      );
    }
    try {
      if (statSync(path).isSocket()) unlinkSync(path);
    } catch {
      // no stale socket
    }
    const server = createServer();
    const uapi = new UapiServer(path, server);
    server.maxConnections = MAX_CONNECTIONS;
    server.on('connection', (socket) => uapi.serve(socket, options.handler));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new TunOsError(error.code ?? 'EIO', 'bind', `cannot listen on ${path}: ${error.message}`, { cause: error }),
        ),
      );
      // listen() binds, creating the socket file, before it returns: under umask 077 the file is
      // owner-only from its first moment (wireguard-go sets the same umask around its listen),
      // instead of open to every local user until the chmod below. A worker thread cannot change
      // the umask; there the chmod alone narrows it.
      const previous = isMainThread ? process.umask(0o077) : undefined;
      try {
        server.listen(path, () => resolve());
      } finally {
        if (previous !== undefined) process.umask(previous);
      }
    });
    chmodSync(path, 0o600);
    return uapi;
  }

  /** One connection: requests are served in order until the peer closes. */
  private serve(socket: Socket, handler: UapiHandler): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    let busy = false;
    const pump = async () => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          const end = buffered.indexOf('\n\n');
          if (end < 0) break;
          const request = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const newline = request.indexOf('\n');
          const first = newline < 0 ? request : request.slice(0, newline);
          const body = newline < 0 ? '' : request.slice(newline + 1);
          let response: { lines: string; errno: number };
          if (first === 'get=1' || first === 'set=1') {
            try {
              response = await handler(first === 'get=1' ? 'get' : 'set', body);
            } catch {
              response = { lines: '', errno: 5 }; // EIO: never let a handler bug kill the daemon
            }
          } else {
            response = { lines: '', errno: 22 }; // EINVAL: unknown operation
          }
          const lines =
            response.lines.length > 0 && !response.lines.endsWith('\n') ? `${response.lines}\n` : response.lines;
          socket.write(`${lines}${errnoLine(response.errno)}\n`);
        }
      } finally {
        busy = false;
      }
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES) {
        socket.end(`${errnoLine(90)}\n`); // EMSGSIZE
        return;
      }
      void pump();
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already removed
    }
  }
}

/** True when something accepts connections on the socket at `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
