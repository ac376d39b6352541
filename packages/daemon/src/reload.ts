// SIGHUP: read the config file again and make the running device match it, as `wg syncconf`
// does, without a restart: peers the file no longer lists are removed, new ones added, and for
// the others the preshared key, keepalive and allowed IPs are set where they differ from what
// runs (through the Device's UAPI set, the path `wg set` takes); the private key and listen port
// likewise; FwMark, and a peer's endpoint, when the file's changed since it was last read (a peer
// that roamed keeps its working address otherwise). The routes (and their rules and unreachable
// twins) follow the new AllowedIPs. Unchanged peers are not touched: their sessions go on.
// What cannot change live (Address, MTU, Table, DNS, the hooks) is logged as "restart needed"
// and keeps running as it was. A file that cannot be read or parsed changes nothing: the error
// is logged, and the daemon runs on as before.

import { cidrNetwork, formatCidr, parseCidr } from '@tunkit/tun-core';
import { keyToHex, type WgQuickConfig, type WgQuickPeer } from '@tunkit/wireguard';
import { hooksOf } from './hooks.js';
import { planRoutes } from './host/linux-routing.js';
import type { Logger } from './logger.js';
import type { DaemonSettings } from './settings.js';
import type { RunningDaemon } from './start.js';

/** What a reload changes: UAPI set bodies (without "set=1"), and the routes to move to. */
export interface ReloadPlan {
  /** Keys that changed in the file but need a restart; they keep their running values. */
  restartNeeded: string[];
  /** listen_port=N alone (so a port in use stops the reload before anything changed), or ''. */
  listenPort: string;
  /** The rest: private key, fwmark, peers. '' when nothing changes. */
  uapi: string;
  added: number;
  removed: number;
  changed: number;
  /** The routes wanted now (the running Address and Table, the new AllowedIPs). */
  routes: string[];
}

/** What the running daemon is now, as the plan compares it. */
export interface RunningState {
  privateKey: Uint8Array;
  listenPort: number;
  peers: { publicKey: Uint8Array; presharedKey?: Uint8Array; persistentKeepalive?: number; allowedIps: string[] }[];
}

/** The state of a running daemon's device. */
export function runningState(daemon: Pick<RunningDaemon, 'device'>): RunningState {
  const engine = daemon.device.engine;
  return {
    privateKey: engine.privateKey,
    listenPort: daemon.device.listenPort,
    peers: [...engine.peers()].map((peer) => ({
      publicKey: peer.publicKey,
      presharedKey: peer.presharedKey,
      persistentKeepalive: peer.persistentKeepalive,
      allowedIps: engine.allowedIps.prefixesOf(peer),
    })),
  };
}

const hex = keyToHex;
const ZERO_KEY = '0'.repeat(64);
const sameBytes = (a?: Uint8Array, b?: Uint8Array) => (a && b ? hex(a) === hex(b) : a === b);
/** Prefixes as the allowed-IPs trie holds them (host bits cleared), each once, in file order. */
const normalized = (prefixes: readonly string[]) => [
  ...new Set(prefixes.map((p) => formatCidr(cidrNetwork(parseCidr(p))))),
];
/** The same, as a set to compare (order does not matter to routing). */
const setOf = (prefixes: readonly string[]) => JSON.stringify(normalized(prefixes).sort());
const endpointText = (e: WgQuickPeer['endpoint']) =>
  e === undefined ? undefined : `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;

/**
 * The reload from `before` (the settings the daemon runs with: the file as last read, endpoints
 * resolved) to `next` (the file now, endpoints resolved), given what runs (`state`).
 */
export function planReload(before: DaemonSettings, next: DaemonSettings, state: RunningState): ReloadPlan {
  const was = before.config.interface;
  const now = next.config.interface;
  const restartNeeded: string[] = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  if (setOf(was.addresses) !== setOf(now.addresses)) restartNeeded.push('Address');
  // The file's MTU = (a derived MTU is not compared: it may differ without any edit).
  if (was.mtu !== now.mtu) restartNeeded.push('MTU');
  if ((was.table ?? 'auto') !== (now.table ?? 'auto')) restartNeeded.push('Table');
  if (differs(was.dns, now.dns)) restartNeeded.push('DNS');
  for (const [kind, lines] of Object.entries(hooksOf(next.config))) {
    if (differs(hooksOf(before.config)[kind as keyof ReturnType<typeof hooksOf>], lines)) restartNeeded.push(kind);
  }

  const device: string[] = [];
  if (!sameBytes(state.privateKey, now.privateKey)) device.push(`private_key=${hex(now.privateKey)}`);
  if ((was.fwmark ?? 0) !== (now.fwmark ?? 0)) device.push(`fwmark=${now.fwmark ?? 0}`);
  const listenPort =
    next.listenPort !== 0 && next.listenPort !== state.listenPort ? `listen_port=${next.listenPort}` : '';

  const running = new Map(state.peers.map((p) => [hex(p.publicKey), p]));
  const previous = new Map(before.config.peers.map((p) => [hex(p.publicKey), p]));
  const wanted = new Map(next.config.peers.map((p) => [hex(p.publicKey), p]));
  const peers: string[] = [];
  let added = 0;
  let removed = 0;
  let changed = 0;
  for (const key of running.keys()) {
    if (wanted.has(key)) continue;
    peers.push(`public_key=${key}`, 'remove=true');
    removed++;
  }
  for (const [key, peer] of wanted) {
    const live = running.get(key);
    const lines: string[] = [];
    if (!live || !sameBytes(live.presharedKey, peer.presharedKey))
      if (live || peer.presharedKey)
        lines.push(`preshared_key=${peer.presharedKey ? hex(peer.presharedKey) : ZERO_KEY}`);
    const endpoint = endpointText(peer.endpoint);
    if (endpoint && (!live || endpoint !== endpointText(previous.get(key)?.endpoint)))
      lines.push(`endpoint=${endpoint}`);
    const keepalive = peer.persistentKeepalive ?? 0;
    if (!live ? keepalive !== 0 : keepalive !== (live.persistentKeepalive ?? 0))
      lines.push(`persistent_keepalive_interval=${keepalive}`);
    // In file order: the first prefix is the peer's label in logs and metrics.
    if (!live || setOf(live.allowedIps) !== setOf(peer.allowedIps)) {
      lines.push('replace_allowed_ips=true', ...normalized(peer.allowedIps).map((p) => `allowed_ip=${p}`));
    }
    if (live && lines.length === 0) continue; // unchanged: its sessions go on untouched
    peers.push(`public_key=${key}`, ...lines);
    if (live) changed++;
    else added++;
  }

  // Routes as the new peers want them, through the Address and Table that run.
  const routeConfig: WgQuickConfig = {
    ...next.config,
    interface: { ...next.config.interface, addresses: was.addresses, table: was.table },
  };
  const uapi = [...device, ...peers];
  return {
    restartNeeded,
    listenPort,
    uapi: uapi.length > 0 ? `${uapi.join('\n')}\n` : '',
    added,
    removed,
    changed,
    routes: planRoutes(routeConfig).routes,
  };
}

/**
 * Applies `plan` to `daemon`; throws (having changed nothing) when the listen port cannot move.
 * Resolves what the routes did.
 */
export async function applyReload(
  daemon: RunningDaemon,
  plan: ReloadPlan,
): Promise<{ routesAdded: number; routesRemoved: number }> {
  if (plan.listenPort) await daemon.device.uapiSet(plan.listenPort);
  if (plan.uapi) await daemon.device.uapiSet(plan.uapi);
  const moved = daemon.routes?.update(plan.routes, daemon.device.listenPort);
  return { routesAdded: moved?.added.length ?? 0, routesRemoved: moved?.removed.length ?? 0 };
}

/**
 * One reload: `reread` gives the settings from the file as it is now (throws when it cannot be
 * read or parsed), endpoints resolved. Logs what it did, or why it did nothing; never throws.
 * Once `stopping` is aborted, what was read is not applied.
 */
export async function reload(
  daemon: RunningDaemon,
  reread: () => Promise<DaemonSettings>,
  log: Pick<Logger, 'info' | 'warn' | 'error'>,
  stopping?: AbortSignal,
): Promise<void> {
  const path = daemon.settings.configPath;
  log.info({ config: path }, 'reloading');
  let next: DaemonSettings;
  try {
    next = await reread();
  } catch (error) {
    log.error({ config: path, error: (error as Error).message }, 'reload: the file was not applied, nothing changed');
    return;
  }
  // The daemon began to stop while the file was read (names resolved): nothing is applied, so the
  // stop never races a reload's changes (a route added, or journalled, after its undo).
  if (stopping?.aborted) {
    log.info({ config: path }, 'reload: abandoned, the daemon stops');
    return;
  }
  const plan = planReload(daemon.settings, next, runningState(daemon));
  if (plan.restartNeeded.length > 0) {
    log.warn(
      { restartNeeded: plan.restartNeeded },
      `reload: restart needed for ${plan.restartNeeded.join(', ')}: running with the values it started with`,
    );
  }
  let routes: { routesAdded: number; routesRemoved: number };
  try {
    routes = await applyReload(daemon, plan);
  } catch (error) {
    log.error({ config: path, error: (error as Error).message }, 'reload: not applied');
    return;
  }
  // What runs from now on: the new file, but the values that need a restart as they were.
  const was = daemon.settings;
  daemon.settings = {
    ...next,
    mtu: was.mtu,
    config: {
      ...next.config,
      interface: {
        ...next.config.interface,
        addresses: was.config.interface.addresses,
        table: was.config.interface.table,
        dns: was.config.interface.dns,
        mtu: was.config.interface.mtu,
        preUp: was.config.interface.preUp,
        postUp: was.config.interface.postUp,
        preDown: was.config.interface.preDown,
        postDown: was.config.interface.postDown,
      },
    },
  };
  log.info(
    {
      peers: next.config.peers.length,
      added: plan.added,
      removed: plan.removed,
      changed: plan.changed,
      ...routes,
      listenPort: daemon.device.listenPort,
    },
    'reloaded',
  );
}
