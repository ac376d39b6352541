// Network namespaces and veth pairs for tests. Each namespace gets a unique name, is deleted by
// destroy() and, as a safety net, when the process exits. A process that dies without running its
// exit handlers (an abort, SIGKILL) leaves its namespaces behind: the first namespace a later test
// process creates sweeps those whose owning pid is gone. Addresses are used only inside them.

import { execFileSync } from 'node:child_process';

let count = 0;
const live = new Set<string>();

process.on('exit', () => {
  for (const name of live) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {}
  }
});

export interface TestNamespace {
  readonly name: string;
  /** Runs a command inside the namespace; returns stdout, throws with stderr. */
  exec(command: string, args?: string[], input?: string): string;
  destroy(): void;
}

let swept = false;

/**
 * Deletes test and lab namespaces (`tk<pid>-…`, `tk<pid>x…`) whose process no longer exists. A pid
 * that is alive, even if reused by another process, keeps its namespaces.
 */
function sweepStaleNamespaces(): void {
  swept = true;
  let names: string[];
  try {
    names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '');
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^tk(\d+)[-x]/.exec(name)?.[1]);
    if (!pid || pidAlive(pid)) continue;
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {}
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates a namespace `tk<pid>-<prefix><n>` with loopback up. */
export function createNamespace(prefix = 'ns'): TestNamespace {
  if (!swept) sweepStaleNamespaces();
  const name = `tk${process.pid}-${prefix}${count++}`;
  execFileSync('ip', ['netns', 'add', name]);
  live.add(name);
  const ns: TestNamespace = {
    name,
    exec(command, args = [], input) {
      try {
        return execFileSync('ip', ['netns', 'exec', name, command, ...args], {
          encoding: 'utf8',
          stdio: ['pipe', 'pipe', 'pipe'],
          ...(input !== undefined ? { input } : {}),
        });
      } catch (error) {
        const stderr = (error as { stderr?: Buffer | string }).stderr?.toString().trim();
        throw new Error(`in ${name}: ${command} ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
      }
    },
    destroy() {
      if (!live.delete(name)) return;
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {}
    },
  };
  ns.exec('ip', ['link', 'set', 'lo', 'up']);
  return ns;
}

/** Joins two namespaces with a veth pair, assigns the addresses (CIDRs) and brings both ends up. */
export function vethPair(
  a: TestNamespace,
  aInterface: string,
  aAddress: string,
  b: TestNamespace,
  bInterface: string,
  bAddress: string,
): void {
  execFileSync('ip', [
    'link',
    'add',
    aInterface,
    'netns',
    a.name,
    'type',
    'veth',
    'peer',
    'name',
    bInterface,
    'netns',
    b.name,
  ]);
  a.exec('ip', ['addr', 'add', aAddress, 'dev', aInterface]);
  b.exec('ip', ['addr', 'add', bAddress, 'dev', bInterface]);
  a.exec('ip', ['link', 'set', aInterface, 'up']);
  b.exec('ip', ['link', 'set', bInterface, 'up']);
}
