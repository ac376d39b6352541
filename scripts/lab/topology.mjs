// The lab: three network namespaces, client — gateway — server, joined by veth pairs, for the
// demo, the benchmarks and the app tests. Addresses (10.88.0.0/16, fd88::/16) exist only inside
// these namespaces; everything is removed by destroy(), on exit, Ctrl-C or failure.
//
//   client ns            gateway ns                 server ns
//   c0 10.88.1.2/24 ——— g0 10.88.1.1/24
//                         g1 10.88.2.1/24 ——— s0 10.88.2.2/24
//
// Nothing routes client → server until a contender adds a route (directly via the gateway for
// the bare path, or through its tunnel).

import { execFileSync, spawn } from 'node:child_process';

let labCount = 0;

export const LAB_ADDRESSES = {
  client: '10.88.1.2',
  gatewayClientSide: '10.88.1.1',
  gatewayServerSide: '10.88.2.1',
  server: '10.88.2.2',
  client6: 'fd88:1::2',
  gatewayClientSide6: 'fd88:1::1',
  gatewayServerSide6: 'fd88:2::1',
  server6: 'fd88:2::2',
};

function run(args, options = {}) {
  return execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
}

/**
 * Builds the lab. Returns handles to run commands in each namespace and `destroy()`, which is
 * also registered for process exit and SIGINT/SIGTERM.
 */
export function createLab(options = {}) {
  const id = options.id ?? `tk${process.pid % 100000}x${labCount++}`;
  const ns = { client: `${id}-c`, gateway: `${id}-g`, server: `${id}-s` };
  const processes = new Set();
  const cleanups = [];
  let destroyed = false;

  const lab = {
    id,
    ns,
    addresses: LAB_ADDRESSES,
    /** Runs a command in a namespace and returns its stdout; throws with stderr on failure. */
    exec(where, command, args = []) {
      try {
        return run(['ip', 'netns', 'exec', ns[where] ?? where, command, ...args]);
      } catch (error) {
        const stderr = error.stderr?.toString().trim();
        throw new Error(`in ${where}: ${command} ${args.join(' ')} failed: ${stderr || error.message}`);
      }
    },
    /** Starts a long-running command in a namespace; it is killed by destroy(). */
    spawn(where, command, args = [], spawnOptions = {}) {
      const child = spawn('ip', ['netns', 'exec', ns[where] ?? where, command, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...spawnOptions,
      });
      processes.add(child);
      child.once('exit', () => processes.delete(child));
      return child;
    },
    /**
     * Registers a synchronous step for destroy(), run after the processes are killed and the
     * namespaces deleted: removing what the lab's daemons leave on the shared file system.
     */
    onDestroy(step) {
      cleanups.push(step);
    },
    /** Kills the lab's processes, deletes its namespaces, runs the onDestroy steps. Synchronous (it runs at exit too); idempotent. */
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const child of processes) child.kill('SIGKILL');
      for (const name of Object.values(ns)) {
        try {
          run(['ip', 'netns', 'del', name]);
        } catch {
          // already gone
        }
      }
      for (const step of cleanups.reverse()) {
        try {
          step();
        } catch (error) {
          process.stderr.write(`lab cleanup: ${error.message}\n`);
        }
      }
      process.off('exit', lab.destroy);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };

  const onSignal = (signal) => {
    lab.destroy();
    process.kill(process.pid, signal);
  };
  process.on('exit', lab.destroy);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    for (const name of Object.values(ns)) run(['ip', 'netns', 'add', name]);
    run(['ip', 'link', 'add', 'c0', 'netns', ns.client, 'type', 'veth', 'peer', 'name', 'g0', 'netns', ns.gateway]);
    run(['ip', 'link', 'add', 'g1', 'netns', ns.gateway, 'type', 'veth', 'peer', 'name', 's0', 'netns', ns.server]);
    const a = LAB_ADDRESSES;
    const setup = [
      ['client', 'ip', ['addr', 'add', `${a.client}/24`, 'dev', 'c0']],
      ['client', 'ip', ['-6', 'addr', 'add', `${a.client6}/64`, 'dev', 'c0', 'nodad']],
      ['gateway', 'ip', ['addr', 'add', `${a.gatewayClientSide}/24`, 'dev', 'g0']],
      ['gateway', 'ip', ['-6', 'addr', 'add', `${a.gatewayClientSide6}/64`, 'dev', 'g0', 'nodad']],
      ['gateway', 'ip', ['addr', 'add', `${a.gatewayServerSide}/24`, 'dev', 'g1']],
      ['gateway', 'ip', ['-6', 'addr', 'add', `${a.gatewayServerSide6}/64`, 'dev', 'g1', 'nodad']],
      ['server', 'ip', ['addr', 'add', `${a.server}/24`, 'dev', 's0']],
      ['server', 'ip', ['-6', 'addr', 'add', `${a.server6}/64`, 'dev', 's0', 'nodad']],
      ['client', 'ip', ['link', 'set', 'c0', 'up']],
      ['client', 'ip', ['link', 'set', 'lo', 'up']],
      ['gateway', 'ip', ['link', 'set', 'g0', 'up']],
      ['gateway', 'ip', ['link', 'set', 'g1', 'up']],
      ['gateway', 'ip', ['link', 'set', 'lo', 'up']],
      ['server', 'ip', ['link', 'set', 's0', 'up']],
      ['server', 'ip', ['link', 'set', 'lo', 'up']],
      // The gateway routes; the server answers anything from the client side through it.
      ['gateway', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']],
      ['gateway', 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']],
      ['server', 'ip', ['route', 'add', '10.0.0.0/8', 'via', a.gatewayServerSide]],
      ['server', 'ip', ['-6', 'route', 'add', 'fd00::/8', 'via', a.gatewayServerSide6]],
    ];
    for (const [where, command, args] of setup) lab.exec(where, command, args);
  } catch (error) {
    lab.destroy();
    throw error;
  }
  return lab;
}

/** Waits until `predicate()` is true, polling, or throws after `timeoutMs`. */
export async function waitFor(what, predicate, timeoutMs = 10_000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
