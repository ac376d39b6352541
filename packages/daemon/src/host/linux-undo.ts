// Undoing one journalled host change on Linux (at exit, or by --cleanup after a kill -9).

import { writeFileSync } from 'node:fs';
import type { HostChange } from '../journal.js';
import { revertDns } from './dns.js';
import { ignoring, type LinuxHostApi } from './linux-api.js';
import { runNft } from './linux-forwarding.js';

export function undoLinuxChange(api: LinuxHostApi, change: HostChange): void {
  switch (change.kind) {
    case 'rule': {
      const { kind: _, ...rule } = change;
      ignoring(['ENOENT'], () => api.removeRule(rule));
      return;
    }
    case 'unreachable-route':
      ignoring(['ESRCH', 'ENOENT'], () => api.removeUnreachableRoute(change.prefix, { table: change.table }));
      return;
    case 'sysctl':
      writeFileSync(change.path, `${change.previous}\n`);
      return;
    case 'nft-table': {
      const result = runNft(`delete table ${change.family} ${change.table}\n`);
      if (!result.ok && !/No such file|ENOENT/.test(result.error)) throw new Error(`nft: ${result.error}`);
      return;
    }
    case 'dns':
      revertDns(change.link);
      return;
  }
}

/** A one-line description of a change, for logs. */
export function describeChange(change: HostChange): string {
  switch (change.kind) {
    case 'rule':
      return `policy rule pref ${change.priority} (IPv${change.family})`;
    case 'unreachable-route':
      return `unreachable route ${change.prefix} in table ${change.table}`;
    case 'sysctl':
      return `${change.path} back to ${change.previous}`;
    case 'nft-table':
      return `nftables table ${change.family} ${change.table}`;
    case 'dns':
      return `DNS settings of ${change.link}`;
  }
}
