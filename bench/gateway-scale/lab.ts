// The gateway-scale lab: N client namespaces, each joined to the gateway's namespace by its own veth
// pair, and the server behind the gateway, as scripts/lab/topology.mjs builds one client:
//
//   client i ns  c0 10.88.(10+i).2/24 ——— gi 10.88.(10+i).1/24  gateway ns  gs 10.88.2.1/24 ——— s0 10.88.2.2/24  server ns
//
// Addresses (10.88.0.0/16, the tunnel's 10.99.0.0/24) exist only inside these namespaces; names
// carry this process's pid, and everything goes on destroy() (also at exit and on Ctrl-C).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import type { Ended } from '../iperf3/measure.js';

export interface ScaleLab {
  id: string;
  ns: Record<string, string>;
  /** The gateway's address on client i's link (its WireGuard endpoint). */
  gatewayAddressFor(i: number): string;
  exec(where: string, command: string, args?: string[]): string;
  spawn(where: string, command: string, args?: string[], options?: object): ChildProcess;
  /** Runs a command to its end, without blocking the event loop: how it ended, never a rejection. */
  run(where: string, command: string, args: string[]): Promise<Ended>;
  onDestroy(step: () => void): void;
  /** Daemon stops (SIGTERM and wait), run by stop(). */
  stops: (() => Promise<unknown>)[];
  stop(): Promise<void>;
  destroy(): void;
}

let labs = 0;

export function createScaleLab(clients: number): ScaleLab {
  const id = `tk${process.pid % 100000}y${labs++}`;
  const ns: Record<string, string> = { gateway: `${id}-g`, server: `${id}-s` };
  for (let i = 0; i < clients; i++) ns[`client${i}`] = `${id}-c${i}`;
  const processes = new Set<ChildProcess>();
  const cleanups: (() => void)[] = [];
  let destroyed = false;
  const sh = (args: string[]) =>
    execFileSync(args[0] as string, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const lab: ScaleLab = {
    id,
    ns,
    gatewayAddressFor: (i) => `10.88.${10 + i}.1`,
    exec(where, command, args = []) {
      try {
        return sh(['ip', 'netns', 'exec', ns[where] ?? where, command, ...args]);
      } catch (error) {
        const stderr = (error as { stderr?: Buffer | string }).stderr?.toString().trim();
        throw new Error(`in ${where}: ${command} ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
      }
    },
    spawn(where, command, args = [], options = {}) {
      const child = spawn('ip', ['netns', 'exec', ns[where] ?? where, command, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...options,
      });
      processes.add(child);
      child.once('exit', () => processes.delete(child));
      return child;
    },
    run(where, command, args) {
      const child = lab.spawn(where, command, args);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d) => {
        stdout += d;
      });
      child.stderr?.on('data', (d) => {
        stderr += d;
      });
      return new Promise((resolve) => child.once('exit', (code) => resolve({ stdout, stderr, code })));
    },
    onDestroy(step) {
      cleanups.push(step);
    },
    stops: [],
    async stop() {
      await Promise.all(lab.stops.map((stop) => stop()));
      lab.stops = [];
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const child of processes) child.kill('SIGKILL');
      for (const name of Object.values(ns)) {
        try {
          sh(['ip', 'netns', 'del', name]);
        } catch {
          // already gone
        }
      }
      for (const step of cleanups.reverse()) {
        try {
          step();
        } catch (error) {
          process.stderr.write(`lab cleanup: ${(error as Error).message}\n`);
        }
      }
      process.off('exit', lab.destroy);
    },
  };
  process.on('exit', lab.destroy);
  try {
    for (const name of Object.values(ns)) sh(['ip', 'netns', 'add', name]);
    sh([
      'ip',
      'link',
      'add',
      'gs',
      'netns',
      ns.gateway as string,
      'type',
      'veth',
      'peer',
      'name',
      's0',
      'netns',
      ns.server as string,
    ]);
    const setup: [string, string, string[]][] = [
      ['gateway', 'ip', ['addr', 'add', '10.88.2.1/24', 'dev', 'gs']],
      ['gateway', 'ip', ['link', 'set', 'gs', 'up']],
      ['gateway', 'ip', ['link', 'set', 'lo', 'up']],
      ['gateway', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']],
      ['server', 'ip', ['addr', 'add', '10.88.2.2/24', 'dev', 's0']],
      ['server', 'ip', ['link', 'set', 's0', 'up']],
      ['server', 'ip', ['link', 'set', 'lo', 'up']],
      ['server', 'ip', ['route', 'add', '10.0.0.0/8', 'via', '10.88.2.1']],
    ];
    for (let i = 0; i < clients; i++) {
      const client = `client${i}`;
      sh([
        'ip',
        'link',
        'add',
        'c0',
        'netns',
        ns[client] as string,
        'type',
        'veth',
        'peer',
        'name',
        `g${i}`,
        'netns',
        ns.gateway as string,
      ]);
      setup.push(
        [client, 'ip', ['addr', 'add', `10.88.${10 + i}.2/24`, 'dev', 'c0']],
        [client, 'ip', ['link', 'set', 'c0', 'up']],
        [client, 'ip', ['link', 'set', 'lo', 'up']],
        ['gateway', 'ip', ['addr', 'add', `10.88.${10 + i}.1/24`, 'dev', `g${i}`]],
        ['gateway', 'ip', ['link', 'set', `g${i}`, 'up']],
      );
    }
    for (const [where, command, args] of setup) lab.exec(where, command, args);
  } catch (error) {
    lab.destroy();
    throw error;
  }
  return lab;
}
