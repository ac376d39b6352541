// Reading the wg-quick file: refuse one whose private key others can read, then parse it strictly.
// Endpoint host names stay names here: the daemon resolves them at start, with retries, and again
// when a peer's handshakes keep failing or on a reload (endpoints.ts). A path is printed with any
// key in it redacted (`tunkit-gateway "$(cat private.key)"` makes one).

import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { TunConfigError } from '@tunkit/tun-core';
import { parseWgQuick, redactKeys, type WgQuickConfig } from '@tunkit/wireguard';
import { StartupError } from './startup-error.js';

/** Throws StartupError when `path` is group- or world-accessible: it holds a private key. */
export function checkConfigMode(path: string, mode: number): void {
  const loose = mode & 0o077;
  if (loose === 0) return;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  const who = [loose & 0o070 ? 'its group' : '', loose & 0o007 ? 'everyone' : ''].filter(Boolean).join(' and ');
  const shown = redactKeys(path);
  throw new StartupError(
    `refusing ${shown}: it holds a private key and ${who} can access it (mode ${octal}); fix with 'chmod 600 ${shown}'`,
  );
}

export async function readConfigFile(path: string): Promise<WgQuickConfig> {
  const shown = redactKeys(path);
  try {
    // One open file for the check and the read, so the file checked is the file read; its mode
    // is checked first: a key others can read is refused before anything is done with it.
    const fd = openSync(path, 'r');
    let text: string;
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new StartupError(`config ${shown} is not a file`);
      checkConfigMode(path, stat.mode);
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
    // Hooks and SaveConfig are the daemon's to allow or refuse (hooks.ts), with its options at hand.
    return parseWgQuick(text);
  } catch (error) {
    if (error instanceof StartupError) throw error;
    if (error instanceof TunConfigError) throw new StartupError(`config ${shown}: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StartupError(`config file ${shown} does not exist: pass --config <wg-quick file>`);
    if (code === 'EACCES') throw new StartupError(`cannot read config file ${shown}: permission denied (run as root?)`);
    // Node's own message quotes the path: say the code instead.
    if (typeof code === 'string') throw new StartupError(`cannot read config file ${shown}: ${code}`, { cause: error });
    throw error;
  }
}
