// Reading the wg-quick file: refuse one whose private key others can read, then parse it strictly.
// Endpoint host names stay names here: the daemon resolves them at start, with retries, and again
// when a peer's handshakes keep failing or on a reload (endpoints.ts).

import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { TunConfigError } from '@tunkit/tun-core';
import { parseWgQuick, type WgQuickConfig } from '@tunkit/wireguard';
import { StartupError } from './startup-error.js';

/** Throws StartupError when `path` is group- or world-accessible: it holds a private key. */
export function checkConfigMode(path: string, mode: number): void {
  const loose = mode & 0o077;
  if (loose === 0) return;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  const who = [loose & 0o070 ? 'its group' : '', loose & 0o007 ? 'everyone' : ''].filter(Boolean).join(' and ');
  throw new StartupError(
    `refusing ${path}: it holds a private key and ${who} can access it (mode ${octal}); fix with 'chmod 600 ${path}'`,
  );
}

export async function readConfigFile(path: string): Promise<WgQuickConfig> {
  try {
    // One open file for the check and the read, so the file checked is the file read; its mode
    // is checked first: a key others can read is refused before anything is done with it.
    const fd = openSync(path, 'r');
    let text: string;
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new StartupError(`config ${path} is not a file`);
      checkConfigMode(path, stat.mode);
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
    // Hooks and SaveConfig are the daemon's to allow or refuse (hooks.ts), with its options at hand.
    return parseWgQuick(text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StartupError(`config file ${path} does not exist: pass --config <wg-quick file>`);
    if (code === 'EACCES') throw new StartupError(`cannot read config file ${path}: permission denied (run as root?)`);
    if (error instanceof TunConfigError) throw new StartupError(`config ${path}: ${error.message}`);
    throw error;
  }
}
