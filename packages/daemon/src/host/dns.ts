// DNS= through systemd-resolved: the tunnel's link gets the servers and becomes the route for all
// domains (~.). Without resolvectl, the servers are not applied and the log says so.

import { spawnSync } from 'node:child_process';
import type { Journal } from '../journal.js';
import type { Logger } from '../logger.js';

function resolvectl(args: string[]): { ok: boolean; error: string } {
  const result = spawnSync('resolvectl', args, { encoding: 'utf8', timeout: 5000 });
  if (result.error) return { ok: false, error: (result.error as NodeJS.ErrnoException).code ?? result.error.message };
  return { ok: result.status === 0, error: (result.stderr ?? '').trim() };
}

export function applyDns(link: string, servers: readonly string[], journal: Journal, log: Logger): void {
  if (servers.length === 0) return;
  const ips = servers.filter((s) => /^[0-9a-fA-F.:]+$/.test(s));
  const domains = servers.filter((s) => !ips.includes(s));
  journal.record({ kind: 'dns', link });
  const set = resolvectl(['dns', link, ...ips]);
  if (!set.ok) {
    log.warn(
      { servers: ips, reason: set.error === 'ENOENT' ? 'resolvectl (systemd-resolved) is not installed' : set.error },
      'DNS= was not applied',
    );
    return;
  }
  resolvectl(['domain', link, ...(domains.length ? domains : ['~.'])]);
  log.info({ servers: ips, domains }, 'DNS applied through systemd-resolved');
}

export function revertDns(link: string): void {
  resolvectl(['revert', link]);
}
