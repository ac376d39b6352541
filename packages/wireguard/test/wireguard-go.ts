// Test helper: Debian's wireguard-go in a namespace, configured with wg — the reference peer of
// the interop tests and of the fixture capture. Interface names must be unique per instance: the
// UAPI socket path (/var/run/wireguard/NAME.sock) is shared across namespaces.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestNamespace } from '@tunkit/tun-core/testing';
import { formatKey } from '../src/protocol/keys.js';

export interface WireguardGo {
  process: ChildProcess;
  stop(): void;
}

/**
 * Starts wireguard-go as `name` in `ns` with `privateKey`, `wg set` arguments for its peer
 * (e.g. ['listen-port', '51821', 'peer', KEY, 'endpoint', 'IP:PORT', 'allowed-ips', 'CIDR']),
 * and the interface address; returns once it is up.
 */
export async function startWireguardGo(
  ns: TestNamespace,
  name: string,
  privateKey: Uint8Array,
  setArgs: string[],
  address: string,
): Promise<WireguardGo> {
  const child = spawn('ip', ['netns', 'exec', ns.name, 'wireguard-go', '-f', name], {
    env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
    stdio: 'ignore',
  });
  const stop = () => {
    child.kill('SIGKILL');
    rmSync(`/var/run/wireguard/${name}.sock`, { force: true }); // a killed wireguard-go leaves it behind
  };
  try {
    for (let i = 0; i < 100 && spawnSync('ip', ['netns', 'exec', ns.name, 'wg', 'show', name]).status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const keyFile = join(mkdtempSync(join(tmpdir(), 'tunkit-wg-')), 'key');
    writeFileSync(keyFile, `${formatKey(privateKey)}\n`, { mode: 0o600 });
    ns.exec('wg', ['set', name, 'private-key', keyFile, ...setArgs]);
    rmSync(keyFile);
    ns.exec('ip', ['addr', 'add', address, 'dev', name]);
    ns.exec('ip', ['link', 'set', name, 'up']);
  } catch (error) {
    stop();
    throw error;
  }
  return { process: child, stop };
}
