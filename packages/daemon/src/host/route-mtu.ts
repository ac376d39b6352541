// The tunnel MTU when the config sets none, computed as wg-quick(8) does (set_mtu_up): the largest
// MTU of the routes to the peers' endpoints (a route's own `mtu`, else its device's), else that of
// the default route, else 1500; minus 80, the largest WireGuard overhead (IPv6 40 + UDP 8 + data
// header 16 + tag 16). Linux only: read with `ip -j route get` (iproute2), before the tunnel's own
// routes exist, so the answer is the underlay's path.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** WireGuard's largest overhead per packet: IPv6 header 40 + UDP 8 + data header 16 + Poly1305 tag 16. */
export const WIREGUARD_OVERHEAD = 80;
/** wg-quick's fallback when no route says anything. */
const FALLBACK_LINK_MTU = 1500;

export type RunIp = (args: string[]) => Promise<string>;

const runIp: RunIp = async (args) => (await promisify(execFile)('ip', args, { encoding: 'utf8' })).stdout;

interface RouteJson {
  dev?: string;
  metrics?: { mtu?: number }[];
}

/** The MTU `ip -j route get`/`route show` reports for its first route: its own, or its device's. */
async function routeMtu(routesJson: string, run: RunIp): Promise<number | undefined> {
  const routes = JSON.parse(routesJson || '[]') as RouteJson[];
  const route = routes[0];
  if (route === undefined) return undefined;
  const own = route.metrics?.find((m) => m.mtu !== undefined)?.mtu;
  if (own !== undefined) return own;
  if (route.dev === undefined) return undefined;
  const links = JSON.parse(await run(['-j', 'link', 'show', 'dev', route.dev])) as { mtu?: number }[];
  return links[0]?.mtu;
}

export interface DerivedMtu {
  mtu: number;
  /** What it came from: "route to 192.0.2.1", "default route", or "fallback 1500". */
  from: string;
}

/**
 * wg-quick's MTU for a tunnel whose peers are at `endpoints` (IP addresses). A route that cannot be
 * read (no route, no `ip`) counts as no answer, as in wg-quick; `warn` hears why.
 */
export async function mtuFromRoutes(
  endpoints: readonly string[],
  warn: (message: string) => void,
  run: RunIp = runIp,
): Promise<DerivedMtu> {
  let best: DerivedMtu | undefined;
  const consider = async (what: string, args: string[]) => {
    try {
      const mtu = await routeMtu(await run(args), run);
      if (mtu !== undefined && mtu > (best?.mtu ?? 0)) best = { mtu, from: what };
    } catch (error) {
      warn(`cannot read the ${what} for the MTU: ${(error as Error).message.split('\n')[0]}`);
    }
  };
  for (const address of new Set(endpoints)) await consider(`route to ${address}`, ['-j', 'route', 'get', address]);
  if (best === undefined) await consider('default route', ['-j', 'route', 'show', 'default']);
  const chosen = best ?? { mtu: FALLBACK_LINK_MTU, from: `fallback ${FALLBACK_LINK_MTU}` };
  return { mtu: chosen.mtu - WIREGUARD_OVERHEAD, from: chosen.from };
}
