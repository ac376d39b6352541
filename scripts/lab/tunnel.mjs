// A WireGuard tunnel across the lab (see topology.mjs): keys, wg-quick files for a gateway in the
// gateway namespace and a client in the client namespace, and the tunkit daemons started there.
// Tunnel addresses: 10.99.0.0/24 and fd99::/64, used only inside the lab's namespaces.
//
//   client ns: tunnel 10.99.0.2 ——(UDP 10.88.1.2 → 10.88.1.1:51820)—— gateway ns: tunnel 10.99.0.1 —— server ns

import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TUNNEL = {
  gateway: '10.99.0.1',
  client: '10.99.0.2',
  gateway6: 'fd99::1',
  client6: 'fd99::2',
  port: 51820,
};

const base64 = (base64url) => Buffer.from(base64url, 'base64url').toString('base64');

/** A Curve25519 key pair in WireGuard's base64 form. */
export function keyPair() {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { privateKey: base64(jwk.d), publicKey: base64(jwk.x) };
}

/**
 * wg-quick texts for the gateway and the client.
 * @param {{ clientAllowedIps?: string[], keepalive?: number, gatewayAddress?: string[], clientAddress?: string[] }} [options]
 */
export function tunnelConfigs(options = {}) {
  const gateway = options.gatewayKeys ?? keyPair();
  const client = options.clientKeys ?? keyPair();
  const clientAllowed = options.clientAllowedIps ?? ['10.99.0.0/24', 'fd99::/64', '10.88.2.0/24', 'fd88:2::/64'];
  const gatewayText = [
    '[Interface]',
    `PrivateKey = ${gateway.privateKey}`,
    `ListenPort = ${TUNNEL.port}`,
    `Address = ${(options.gatewayAddress ?? [`${TUNNEL.gateway}/24`, `${TUNNEL.gateway6}/64`]).join(', ')}`,
    '',
    '[Peer]',
    `PublicKey = ${client.publicKey}`,
    `AllowedIPs = ${TUNNEL.client}/32, ${TUNNEL.client6}/128`,
    '',
  ].join('\n');
  const clientText = [
    '[Interface]',
    `PrivateKey = ${client.privateKey}`,
    `Address = ${(options.clientAddress ?? [`${TUNNEL.client}/24`, `${TUNNEL.client6}/64`]).join(', ')}`,
    '',
    '[Peer]',
    `PublicKey = ${gateway.publicKey}`,
    `Endpoint = 10.88.1.1:${TUNNEL.port}`,
    `AllowedIPs = ${clientAllowed.join(', ')}`,
    `PersistentKeepalive = ${options.keepalive ?? 5}`,
    '',
  ].join('\n');
  return { gateway, client, gatewayText, clientText };
}

/**
 * Writes config files (mode 0600) into a fresh directory; `remove()` deletes it, and so does
 * `lab.destroy()` when a lab is given (also on Ctrl-C or failure: the files hold private keys).
 */
export function writeConfigs(files, lab) {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-lab-'));
  const paths = {};
  for (const [name, text] of Object.entries(files)) {
    paths[name] = join(dir, `${name}.conf`);
    writeFileSync(paths[name], text, { mode: 0o600 });
  }
  const remove = () => rmSync(dir, { recursive: true, force: true });
  lab?.onDestroy?.(remove);
  return { dir, paths, remove };
}

/** The state a daemon for interface `name` leaves on the host's file system when it is killed. */
export function daemonLeftovers(name, stateDir = '/run/tunkit') {
  return [join(stateDir, `${name}.json`), `/var/run/wireguard/${name}.sock`];
}

/**
 * Starts tunkit-<role> from its build (apps/<role>/dist/main.js) in a lab namespace, logging JSON
 * (options: env, echo, nodeArgs such as ['--cpu-prof']).
 * Returns the child, its parsed log lines, `waitForLog(message)` and `stop(signal)` (resolves the
 * exit code).
 */
export function startDaemon(lab, where, role, configPath, args = [], options = {}) {
  const main = join(ROOT, 'apps', role, 'dist', 'main.js');
  const nodeArgs = options.nodeArgs ?? [];
  const child = lab.spawn(
    where,
    process.execPath,
    [...nodeArgs, main, '--config', configPath, '--log-format', 'json', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    },
  );
  const logs = [];
  const waiters = new Set();
  let stderr = '';
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ msg: line });
      }
      if (options.echo) process.stdout.write(`[${role}] ${line}\n`);
      for (const waiter of waiters) waiter();
      newline = buffered.indexOf('\n');
    }
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (options.echo) process.stderr.write(`[${role}] ${chunk}`);
  });
  // A daemon killed with SIGKILL (by a test, or by lab.destroy) leaves its UAPI socket and its
  // journal (/run/tunkit/<name>.json) behind: the host changes it lists died with the lab's
  // namespaces, the files would not. lab.destroy() removes them (this daemon's names only), also
  // when it runs on SIGINT/SIGTERM, where this child's exit handler below never gets to run.
  const nameAt = args.indexOf('--name');
  const name = nameAt >= 0 ? args[nameAt + 1] : basename(configPath).replace(/\.conf$/, '');
  lab.onDestroy?.(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const path of daemonLeftovers(name, options.env?.TUNKIT_STATE_DIR ?? undefined)) rmSync(path, { force: true });
  });
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') rmSync(`/var/run/wireguard/${name}.sock`, { force: true });
      resolve(code ?? signal);
    }),
  );
  return {
    child,
    logs,
    get stderr() {
      return stderr;
    },
    exited,
    /** Resolves the first log entry whose msg matches, counting from entry `from`; rejects on exit or timeout. */
    waitForLog(message, timeoutMs = 15_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs
            .slice(from)
            .find((l) => (typeof message === 'string' ? l.msg === message : message.test(l.msg)));
          if (found) {
            done();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`tunkit-${role} did not log '${message}' within ${timeoutMs} ms; stderr: ${stderr.trim()}`));
        }, timeoutMs);
        const onExit = (code) => {
          done();
          reject(new Error(`tunkit-${role} exited (${code}) before logging '${message}'; stderr: ${stderr.trim()}`));
        };
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
