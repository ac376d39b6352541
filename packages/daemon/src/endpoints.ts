// Endpoint host names (Endpoint = vpn.example.com:51820), resolved the way `wg` does and kept
// resolved while the daemon runs:
//   - at start, each name is tried again after a transient failure (EAI_AGAIN: no network yet at
//     boot), 1 s apart growing by 1.2× up to 20 s, WG_ENDPOINT_RESOLUTION_RETRIES times (default
//     15, or "infinity"), each failure logged; a name that does not exist (ENOTFOUND, EAI_FAIL) or
//     is still failing after the retries stops the start, as `wg setconf` fails;
//   - while running, a peer whose handshakes keep failing has its name resolved again (the host
//     may have moved: dynamic DNS), at most once per RERESOLVE_INTERVAL_MS per peer;
//   - a reload resolves the new file's names once each, without retries (resolveConfig with
//     retries 0 and keepUnresolved: a name that fails leaves that peer's endpoint as it is, as a
//     peer without Endpoint = does under `wg syncconf`), so what it applies carries fresh addresses.
// Peers are named in logs by their first AllowedIPs prefix, never by key; host names are not
// secret (the parser took them only as DNS names, which no key can be).

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Device, keyToHex, type Peer, type WgQuickConfig } from '@tunkit/wireguard';
import type { Logger } from './logger.js';
import { StartupError } from './startup-error.js';

/** wg's schedule: the first retry after 1 s, each next one 1.2× later, at most 20 s apart. */
const FIRST_RETRY_MS = 1_000;
const RETRY_GROWTH = 1.2;
const MAX_RETRY_MS = 20_000;
/** wg's default for WG_ENDPOINT_RESOLUTION_RETRIES. */
export const DEFAULT_RESOLUTION_RETRIES = 15;
/** A failing peer's name is looked up again at most this often (three handshake attempts). */
const RERESOLVE_INTERVAL_MS = 15_000;
/** Names looked up at once by a reload (a gateway may list thousands). */
const RESOLVE_CONCURRENCY = 8;
/** getaddrinfo's answers that no retry changes (glibc: EAI_NONAME, EAI_FAIL; Node: ENOTFOUND). */
const PERMANENT = new Set(['ENOTFOUND', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);

export type Lookup = (host: string) => Promise<string>;

/** WG_ENDPOINT_RESOLUTION_RETRIES as `wg` reads it: an integer, or "infinity"; else the default. */
export function resolutionRetries(env: NodeJS.ProcessEnv): number {
  const value = env.WG_ENDPOINT_RESOLUTION_RETRIES;
  if (value === 'infinity') return Number.POSITIVE_INFINITY;
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : DEFAULT_RESOLUTION_RETRIES;
}

interface Name {
  host: string;
  port: number;
}

export interface EndpointResolverOptions {
  log: Pick<Logger, 'info' | 'warn'>;
  /** Resolves a name to one address (default: getaddrinfo through dns.lookup, its first answer). */
  lookup?: Lookup;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /** Aborts the waits between retries (the start was cancelled). */
  signal?: AbortSignal;
  /** Waits between retries (default timers/promises setTimeout). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
}

export class EndpointResolver {
  private readonly log: EndpointResolverOptions['log'];
  private readonly lookup: Lookup;
  private readonly now: () => number;
  private readonly signal: AbortSignal | undefined;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  /** The host name behind each named peer's endpoint, by the hex of its public key. */
  private readonly names = new Map<string, Name>();
  /** When each peer's name was last looked up again, and the lookups under way. */
  private readonly lastReresolved = new Map<string, number>();
  private readonly pending = new Set<string>();

  constructor(options: EndpointResolverOptions) {
    this.log = options.log;
    this.lookup = options.lookup ?? (async (host) => (await dnsLookup(host)).address);
    this.now = options.now ?? (() => performance.now());
    this.signal = options.signal;
    this.sleep = options.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal }));
  }

  /**
   * `config` with every DNS-name endpoint replaced by an address, each name tried `retries` more
   * times after a transient failure (see the file header), and remembered for later lookups.
   * Throws StartupError naming the host when one cannot be resolved; with `keepUnresolved`, that
   * peer comes back without an endpoint instead (the failure is logged).
   */
  async resolveConfig(
    config: WgQuickConfig,
    options: { retries: number; keepUnresolved?: boolean },
  ): Promise<WgQuickConfig> {
    const names = new Map<string, Name>();
    const peers = await mapBounded(config.peers, RESOLVE_CONCURRENCY, async (peer) => {
      const endpoint = peer.endpoint;
      if (endpoint === undefined || isIP(endpoint.host) !== 0) return peer;
      names.set(keyToHex(peer.publicKey), { host: endpoint.host, port: endpoint.port });
      try {
        const address = await this.resolveWithRetries(endpoint.host, options.retries, label(peer.allowedIps));
        return { ...peer, endpoint: { host: address, port: endpoint.port } };
      } catch (error) {
        if (!options.keepUnresolved) throw error;
        this.log.warn({ peer: label(peer.allowedIps), host: endpoint.host }, (error as Error).message);
        return { ...peer, endpoint: undefined };
      }
    });
    // The file's names from now on: a peer it no longer names is not looked up again.
    this.names.clear();
    for (const [key, name] of names) this.names.set(key, name);
    return { ...config, peers };
  }

  /**
   * Looks `peer`'s host name up again (its handshakes keep failing), at most once per
   * RERESOLVE_INTERVAL_MS, and moves its endpoint when the address changed. Never throws: a
   * failure is logged and the endpoint stays.
   */
  async reresolve(device: Pick<Device, 'engine'>, peer: Peer): Promise<void> {
    const key = keyToHex(peer.publicKey);
    const name = this.names.get(key);
    if (name === undefined || this.pending.has(key)) return;
    const now = this.now();
    if (now - (this.lastReresolved.get(key) ?? Number.NEGATIVE_INFINITY) < RERESOLVE_INTERVAL_MS) return;
    this.lastReresolved.set(key, now);
    this.pending.add(key);
    const who = label(device.engine.allowedIps.prefixesOf(peer));
    try {
      const address = await this.lookup(name.host);
      if (device.engine.peer(peer.publicKey) !== peer) return; // removed meanwhile
      const before = peer.endpoint;
      if (before?.address === address && before.port === name.port) return;
      peer.endpoint = { address, port: name.port };
      this.log.info(
        {
          peer: who,
          host: name.host,
          endpoint: `${address}:${name.port}`,
          was: before && `${before.address}:${before.port}`,
        },
        'endpoint host name resolved again: handshakes were failing',
      );
    } catch (error) {
      this.log.warn(
        { peer: who, host: name.host, code: errorCode(error) },
        'cannot resolve the endpoint host name again',
      );
    } finally {
      this.pending.delete(key);
    }
  }

  /** How many peers have a host name behind their endpoint. */
  get namedPeers(): number {
    return this.names.size;
  }

  private async resolveWithRetries(host: string, retries: number, peer: string): Promise<string> {
    let delay = FIRST_RETRY_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.lookup(host);
      } catch (error) {
        const code = errorCode(error);
        const permanent = PERMANENT.has(code);
        if (permanent || attempt >= retries) {
          throw new StartupError(
            `cannot resolve Endpoint host '${host}' (peer ${peer}): ${code}${permanent ? ', the name does not exist' : `, after ${attempt + 1} attempts`}`,
            { cause: error },
          );
        }
        this.log.warn(
          { host, peer, code, attempt: attempt + 1, retryInMs: Math.round(delay) },
          `cannot resolve Endpoint host '${host}' yet: trying again in ${(delay / 1000).toFixed(2)} s`,
        );
        try {
          await this.sleep(delay, this.signal);
        } catch {
          throw new StartupError(`resolving Endpoint host '${host}' was cancelled`);
        }
        delay = Math.min(MAX_RETRY_MS, delay * RETRY_GROWTH);
      }
    }
  }
}

function label(allowedIps: readonly string[]): string {
  return allowedIps[0] ?? 'a peer without allowed IPs';
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/** `items` mapped by `map`, at most `limit` at a time, in order. */
async function mapBounded<T, U>(items: readonly T[], limit: number, map: (item: T) => Promise<U>): Promise<U[]> {
  const results = new Array<U>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await map(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
