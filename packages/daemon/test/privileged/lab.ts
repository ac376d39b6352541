// Typed access to the lab scripts (scripts/lab/*.mjs, shared with the demo and the benchmarks),
// plus small network tools run inside the lab's namespaces with node itself.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
// @ts-expect-error: plain ESM module without types
import * as topology from '../../../../scripts/lab/topology.mjs';
// @ts-expect-error: plain ESM module without types
import * as tunnel from '../../../../scripts/lab/tunnel.mjs';

export interface Lab {
  id: string;
  ns: { client: string; gateway: string; server: string };
  addresses: Record<string, string>;
  exec(where: string, command: string, args?: string[]): string;
  spawn(where: string, command: string, args?: string[], options?: object): ChildProcess;
  /** A synchronous step for destroy(), after the processes and namespaces are gone. */
  onDestroy(step: () => void): void;
  destroy(): void;
}

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

export interface Daemon {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  readonly stderr: string;
  exited: Promise<number | string>;
  waitForLog(message: string | RegExp, timeoutMs?: number, from?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export const createLab: (options?: { id?: string }) => Lab = topology.createLab;
export const waitFor: (
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs?: number,
  intervalMs?: number,
) => Promise<void> = topology.waitFor;
/** The repository root; the apps' builds are at apps/<role>/dist/main.js below it. */
export const ROOT: string = tunnel.ROOT;
export const appMain = (role: 'gateway' | 'headless'): string => `${ROOT}/apps/${role}/dist/main.js`;
export const TUNNEL: { gateway: string; client: string; gateway6: string; client6: string; port: number } =
  tunnel.TUNNEL;
export const keyPair: () => KeyPair = tunnel.keyPair;
export const tunnelConfigs: (options?: {
  gatewayKeys?: KeyPair;
  clientKeys?: KeyPair;
  clientAllowedIps?: string[];
  keepalive?: number;
  gatewayAddress?: string[];
  clientAddress?: string[];
}) => { gateway: KeyPair; client: KeyPair; gatewayText: string; clientText: string } = tunnel.tunnelConfigs;
export const writeConfigs: (
  files: Record<string, string>,
  lab?: Lab,
) => {
  dir: string;
  paths: Record<string, string>;
  remove(): void;
} = tunnel.writeConfigs;
/** The files a daemon for interface `name` leaves when killed: its journal and its UAPI socket. */
export const daemonLeftovers: (name: string, stateDir?: string) => string[] = tunnel.daemonLeftovers;
export const startDaemon: (
  lab: Lab,
  where: string,
  role: 'gateway' | 'headless',
  configPath: string,
  args?: string[],
  options?: { env?: NodeJS.ProcessEnv; echo?: boolean; nodeArgs?: string[] },
) => Daemon = tunnel.startDaemon;

/**
 * tunkit-gateway in the gateway namespace, then tunkit-headless in the client namespace, each
 * with its config file and extra options, resolved once both logged "up"; `stop()` ends both
 * with SIGTERM, the client first.
 */
export async function startGatewayAndClient(
  lab: Lab,
  configs: { gateway: string; client: string },
  args: { gateway?: string[]; client?: string[] } = {},
): Promise<{ gateway: Daemon; client: Daemon; stop(): Promise<void> }> {
  const gateway = startDaemon(lab, 'gateway', 'gateway', configs.gateway, args.gateway);
  await gateway.waitForLog('gateway up');
  const client = startDaemon(lab, 'client', 'headless', configs.client, args.client);
  await client.waitForLog('headless up');
  const stop = async () => {
    await client.stop('SIGTERM');
    await gateway.stop('SIGTERM');
  };
  return { gateway, client, stop };
}

/**
 * A fresh tunnel in `lab` (tunnelConfigs with a 1 s keepalive, the interfaces named `names`),
 * started by startGatewayAndClient with `args`.
 */
export async function startTunnel(
  lab: Lab,
  names: { gateway: string; client: string },
  args: { gateway?: string[]; client?: string[] } = {},
): ReturnType<typeof startGatewayAndClient> {
  const keys = tunnelConfigs({ keepalive: 1 });
  const files = writeConfigs({ [names.gateway]: keys.gatewayText, [names.client]: keys.clientText }, lab);
  return startGatewayAndClient(
    lab,
    { gateway: files.paths[names.gateway] as string, client: files.paths[names.client] as string },
    args,
  );
}

/** Runs a node script in a namespace and returns its stdout. */
export function nodeIn(lab: Lab, where: string, script: string, args: string[] = []): string {
  return lab.exec(where, process.execPath, ['--input-type=module', '-e', script, ...args]);
}

/** Starts a node script in a namespace; resolves once it printed "ready". */
export async function nodeServer(lab: Lab, where: string, script: string): Promise<ChildProcess> {
  const child = lab.spawn(where, process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`server script exited ${code}: ${stderr}`)));
  });
  return child;
}

/** A UDP echo server that answers each datagram with "<sender address> <datagram>". */
export const UDP_ECHO = (host: string, port: number) => `
import { createSocket } from 'node:dgram';
const s = createSocket('${host.includes(':') ? 'udp6' : 'udp4'}');
s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from(r.address + ' '), m]), r.port, r.address));
s.bind(${port}, '${host}', () => console.log('ready'));`;

/**
 * Sends `count` numbered datagrams of `size` bytes, one at a time (each waited for up to 1 s), and
 * prints how many came back and the echoes' first field. An echo that comes after its wait is
 * ignored: it must not end the wait for a later datagram (one late echo would otherwise put every
 * later wait one echo behind, and lose the rest of the run).
 */
export const UDP_CLIENT = (host: string, port: number, count: number, size: number) => `
import { createSocket } from 'node:dgram';
const s = createSocket('${host.includes(':') ? 'udp6' : 'udp4'}');
const seen = new Set(); let from = '';
for (let i = 0; i < ${count}; i++) {
  const payload = Buffer.alloc(${size}, i & 0xff); payload.writeUInt32BE(i, 0);
  const got = new Promise((resolve) => {
    const onMessage = (m) => {
      const space = m.indexOf(32); from = m.subarray(0, space).toString();
      const body = m.subarray(space + 1);
      if (body.length === ${size} && body.readUInt32BE(0) === i) { seen.add(i); done(); }
    };
    const done = () => { clearTimeout(t); s.off('message', onMessage); resolve(); };
    const t = setTimeout(done, 1000);
    s.on('message', onMessage);
  });
  s.send(payload, ${port}, '${host}'); await got;
}
console.log(JSON.stringify({ received: seen.size, from })); s.close();`;

/**
 * What a daemon for interface `name` left in namespace `where` and on the file system: its
 * device, policy rules (any family), routes in the tunkit tables (51820..51829) or through its device, nft tables,
 * journal and UAPI socket. Empty when it cleaned up after itself.
 */
export function hostLeftovers(lab: Lab, where: string, name: string): string[] {
  const left: string[] = [];
  if (lab.exec(where, 'ip', ['-o', 'link']).includes(`${name}:`)) left.push(`link ${name}`);
  for (const family of ['-4', '-6']) {
    for (const rule of lab.exec(where, 'ip', [family, 'rule']).split('\n')) {
      if (/sport|suppress_prefixlength|lookup 5182\d/.test(rule)) left.push(`rule ${family} ${rule.trim()}`);
    }
    for (const route of lab.exec(where, 'ip', [family, 'route', 'show', 'table', 'all']).split('\n')) {
      if (/table 5182\d/.test(route) || route.includes(` dev ${name} `)) left.push(`route ${family} ${route.trim()}`);
    }
  }
  const tables = lab.exec(where, 'nft', ['list', 'tables']).trim();
  if (tables) left.push(`nft: ${tables}`);
  for (const path of daemonLeftovers(name)) if (existsSync(path)) left.push(path);
  return left;
}

/** A daemon's end: exit code, and milliseconds from its first stderr output (its one line) to its exit. */
export async function exitAfterFailure(daemon: Daemon): Promise<{ code: number | string; afterFailureMs: number }> {
  let failedAt: number | undefined;
  daemon.child.stderr?.once('data', () => {
    failedAt = performance.now();
  });
  const code = await daemon.exited;
  const exitedAt = performance.now();
  return { code, afterFailureMs: failedAt === undefined ? Number.NaN : exitedAt - failedAt };
}
