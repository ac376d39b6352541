// Gateway host changes on Linux: IP forwarding (sysctl, restored on exit) and an nftables
// masquerade of tunnel traffic leaving through one interface (its own table, deleted on exit).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Journal } from '../journal.js';
import { StartupError } from '../startup-error.js';

export const FORWARDING_SYSCTLS = ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv6/conf/all/forwarding'];

/** Turns forwarding on for IPv4 and IPv6, recording each previous value. */
export function enableForwarding(journal: Journal): void {
  for (const path of FORWARDING_SYSCTLS) {
    const previous = readFileSync(path, 'utf8').trim();
    if (previous === '1') continue;
    journal.record({ kind: 'sysctl', path, previous });
    writeFileSync(path, '1\n');
  }
}

/** The nftables table a daemon owns: one per interface name. */
export function nftTableName(tunName: string): string {
  return `tunkit_${tunName.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export function runNft(script: string): { ok: boolean; error: string } {
  const result = spawnSync('nft', ['-f', '-'], { input: script, encoding: 'utf8' });
  if (result.error) return { ok: false, error: (result.error as NodeJS.ErrnoException).code ?? result.error.message };
  return { ok: result.status === 0, error: (result.stderr ?? '').trim() };
}

/** Masquerades what the tunnel forwards out of `iface` (IPv4 and IPv6). */
export function addMasquerade(tunName: string, iface: string, journal: Journal): void {
  if (!/^[A-Za-z0-9_=+.-]{1,15}$/.test(iface) || !existsSync(`/sys/class/net/${iface}`)) {
    throw new StartupError(`--masquerade: there is no network interface '${iface}' (see 'ip link')`);
  }
  const table = nftTableName(tunName);
  journal.record({ kind: 'nft-table', family: 'inet', table });
  const script = [
    `table inet ${table} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    iifname "${tunName}" oifname "${iface}" masquerade`,
    '  }',
    '}',
  ].join('\n');
  const result = runNft(script);
  if (!result.ok) {
    throw new StartupError(
      result.error === 'ENOENT'
        ? '--masquerade needs nftables: install it (apt-get install --no-install-recommends nftables)'
        : `--masquerade: nft refused the rule: ${result.error}`,
    );
  }
}
