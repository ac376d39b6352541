// The journal of host changes: every change the daemon makes outside its own TUN device (policy
// rules, forwarding sysctls, nftables tables, DNS) is written to /run/tunkit/<name>.json before
// it is made. A clean exit undoes them and removes the file; after a `kill -9`, the next start
// (or `--cleanup`) finds the file and undoes what it lists. Routes and addresses on the TUN
// device need no entry: the kernel removes them with the device when the process dies.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type HostChange =
  | {
      kind: 'rule';
      family: 4 | 6;
      priority: number;
      table?: number;
      udpSourcePort?: number;
      suppressPrefixLength?: number;
    }
  | { kind: 'sysctl'; path: string; previous: string }
  | { kind: 'nft-table'; family: 'inet'; table: string }
  | { kind: 'dns'; link: string };

export const DEFAULT_STATE_DIR = '/run/tunkit';

export class Journal {
  readonly path: string;
  /** The process that wrote the journal (undefined when there is none). */
  readonly ownerPid: number | undefined;
  private readonly entries: HostChange[];

  private constructor(path: string, entries: HostChange[], ownerPid: number | undefined) {
    this.path = path;
    this.entries = entries;
    this.ownerPid = ownerPid;
  }

  /** True when the process that wrote the journal is still running (and is not this one). */
  ownerAlive(): boolean {
    if (this.ownerPid === undefined || this.ownerPid === process.pid) return false;
    try {
      process.kill(this.ownerPid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  /** The journal of interface `name`; holds what a previous run left when it did not exit cleanly. */
  static open(name: string, dir = process.env.TUNKIT_STATE_DIR ?? DEFAULT_STATE_DIR): Journal {
    const path = join(dir, `${name}.json`);
    let entries: HostChange[] = [];
    let pid: number | undefined;
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as { pid?: number; changes?: HostChange[] };
      entries = Array.isArray(parsed.changes) ? parsed.changes : [];
      pid = typeof parsed.pid === 'number' ? parsed.pid : undefined;
    } catch {
      // no journal, or an unreadable one (a crash mid-write leaves the previous, complete file)
    }
    return new Journal(path, entries, pid);
  }

  get pending(): readonly HostChange[] {
    return this.entries;
  }

  /** Records a change before it is made. */
  record(change: HostChange): void {
    this.entries.push(change);
    this.write();
  }

  /** Undoes every change, newest first; errors are reported, not thrown. Removes the file. */
  async undoAll(
    undo: (change: HostChange) => Promise<void> | void,
    onError: (change: HostChange, error: unknown) => void,
  ): Promise<void> {
    while (this.entries.length > 0) {
      const change = this.entries[this.entries.length - 1] as HostChange;
      try {
        await undo(change);
      } catch (error) {
        onError(change, error);
      }
      this.entries.pop();
      this.write();
    }
  }

  private write(): void {
    if (this.entries.length === 0) {
      rmSync(this.path, { force: true });
      return;
    }
    mkdirSync(join(this.path, '..'), { recursive: true, mode: 0o755 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ pid: process.pid, changes: this.entries }, null, 2)}\n`, {
      mode: 0o600,
    });
    renameSync(temporary, this.path);
  }
}
