// The file descriptor behind a node:dgram socket. Node has no public API for it; the socket keeps
// its libuv handle (a UDPWrap, whose `fd` getter returns the descriptor on Unix and -1 on Windows)
// in an internal state object under a symbol described as "state symbol". Reading it there avoids
// the deprecated `socket._handle` (DEP0112), which holds the same handle. Anything unexpected
// yields undefined, never a guess.

import type { Socket } from 'node:dgram';

/** The bound socket's fd, or undefined where Node does not expose one (Windows, or a changed internal). */
export function socketFd(socket: Socket): number | undefined {
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    if (symbol.description !== 'state symbol') continue;
    const state = (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[symbol];
    const fd = state?.handle?.fd;
    return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
  }
  return undefined;
}
