// The journal of host changes: every change the daemon makes outside its own TUN device (policy
// rules, unreachable routes, forwarding sysctls, nftables tables, DNS) is written to
// /run/tunkit/<name>.json before it is made. A clean exit undoes them and removes the file; after a `kill -9`, the next start
// (or `--cleanup`) finds the file and undoes what it lists. Routes and addresses on the TUN
// device need no entry: the kernel removes them with the device when the process dies.

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StartupError } from './startup-error.js';

export type HostChange =
  | {
      kind: 'rule';
      family: 4 | 6;
      priority: number;
      table?: number;
      udpSourcePort?: number;
      suppressPrefixLength?: number;
    }
  /** A route that refuses what the tunnel routed once the TUN is gone (see linux-routing.ts). */
  | { kind: 'unreachable-route'; table: number; prefix: string }
  | { kind: 'sysctl'; path: string; previous: string }
  | { kind: 'nft-table'; family: 'inet'; table: string }
  | { kind: 'dns'; link: string };

export const DEFAULT_STATE_DIR = '/run/tunkit';

const stateDir = () => process.env.TUNKIT_STATE_DIR ?? DEFAULT_STATE_DIR;

/** This process's network namespace (the inode of /proc/self/ns/net), so journals of daemons in other namespaces are told apart. */
export function currentNetns(): number | undefined {
  try {
    return statSync('/proc/self/ns/net').ino;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What a journal file holds, as written by Journal (see write()). */
interface JournalFile {
  pid: number | undefined;
  netns: number | undefined;
  changes: HostChange[];
}

/**
 * The one reader of journal files. Undefined when there is no file or it cannot be parsed (a crash
 * mid-write leaves the previous, complete file: writes go through a rename).
 */
function readJournalFile(path: string): JournalFile | undefined {
  let parsed: { pid?: unknown; netns?: unknown; changes?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  return {
    pid: typeof parsed.pid === 'number' ? parsed.pid : undefined,
    netns: typeof parsed.netns === 'number' ? parsed.netns : undefined,
    changes: Array.isArray(parsed.changes) ? (parsed.changes as HostChange[]) : [],
  };
}

/**
 * The routing tables named by the policy rules of the other live daemons in this network
 * namespace (their journals in the state directory), so a new daemon picks another.
 */
export function tablesInUse(exceptName: string, dir = stateDir()): Set<number> {
  const tables = new Set<number>();
  const netns = currentNetns();
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== `${exceptName}.json`);
  } catch {
    return tables;
  }
  for (const file of files) {
    const journal = readJournalFile(join(dir, file));
    if (journal?.pid === undefined || journal.pid === process.pid || !isAlive(journal.pid)) continue;
    if (journal.netns !== undefined && netns !== undefined && journal.netns !== netns) continue;
    for (const change of journal.changes) if (change.kind === 'rule' && change.table) tables.add(change.table);
  }
  return tables;
}

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
    return isAlive(this.ownerPid);
  }

  /** The journal of interface `name`; holds what a previous run left when it did not exit cleanly. */
  static open(name: string, dir = stateDir()): Journal {
    const path = join(dir, `${name}.json`);
    const file = readJournalFile(path);
    return new Journal(path, file?.changes ?? [], file?.pid);
  }

  get pending(): readonly HostChange[] {
    return this.entries;
  }

  /** Records a change before it is made. */
  record(change: HostChange): void {
    this.recordAll([change]);
  }

  /**
   * Records changes before they are made, with one write of the file (a gateway's thousands of
   * routes would otherwise rewrite a growing file once each).
   */
  recordAll(changes: readonly HostChange[]): void {
    if (changes.length === 0) return;
    this.entries.push(...changes);
    try {
      this.write();
    } catch (error) {
      this.entries.splice(this.entries.length - changes.length); // not recorded, so not to be made (nor undone)
      throw error;
    }
  }

  /** Drops a change that was undone already (e.g. a rule replaced at run time). */
  forget(change: HostChange): void {
    this.forgetAll([change]);
  }

  /** Drops changes that were undone already, with one write of the file. */
  forgetAll(changes: readonly HostChange[]): void {
    const gone = new Set(changes);
    const kept = this.entries.filter((c) => !gone.has(c));
    if (kept.length === this.entries.length) return;
    this.entries.splice(0, this.entries.length, ...kept);
    this.write();
  }

  /**
   * Undoes every change, newest first; errors are reported, not thrown. Removes the file at the
   * end, not after each change (thousands of them would rewrite it thousands of times): a process
   * killed part-way leaves the whole list, and undoing again what is already undone is harmless
   * (every undo ignores "not there").
   */
  async undoAll(
    undo: (change: HostChange) => Promise<void> | void,
    onError: (change: HostChange, error: unknown) => void,
  ): Promise<void> {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const change = this.entries[i] as HostChange;
      try {
        await undo(change);
      } catch (error) {
        onError(change, error);
      }
    }
    this.entries.length = 0;
    this.write();
  }

  private write(): void {
    if (this.entries.length === 0) {
      rmSync(this.path, { force: true });
      return;
    }
    const dir = join(this.path, '..');
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      writeFileSync(
        temporary,
        `${JSON.stringify({ pid: process.pid, netns: currentNetns(), changes: this.entries }, null, 2)}\n`,
        { mode: 0o600 },
      );
      renameSync(temporary, this.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw error;
      // Without root (e.g. CAP_NET_ADMIN from setcap) /run/tunkit cannot be made.
      throw new StartupError(
        `cannot write the cleanup journal ${this.path} (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}): ` +
          `run as root, or create ${dir} writable by this user, or point TUNKIT_STATE_DIR at a directory it can write`,
      );
    }
  }
}
