// Routes for the peers' AllowedIPs, as wg-quick sets them up:
// - every prefix gets a route through the tunnel in the main table (Table = auto, the default),
//   or in the table Table= names, or none at all (Table = off);
// - a default route (0.0.0.0/0, ::/0) goes into its own table, with policy rules that keep the
//   daemon's own encrypted UDP out of the tunnel: UDP from the daemon's source port uses the main
//   table; everything else uses the main table minus its default route, then the tunnel's table.
//   Unlike wg-quick's fwmark, matching the source port needs no socket option on node:dgram.

import { cidrNetwork, formatCidr, parseCidr } from '@tunkit/tun-core';
import type { WgQuickConfig } from '@tunkit/wireguard';
import type { HostChange, Journal } from '../journal.js';
import type { Logger } from '../logger.js';
import { ignoring, type LinuxHostApi } from './linux-api.js';

/** The tunnel's own table for default routes (wg-quick's default too). */
export const DEFAULT_ROUTE_TABLE = 51820;
/** Priorities of the three policy rules, just before the main table's rule (32766). */
export const RULE_PRIORITY = 31000;

export interface RoutePlan {
  /** Routes through the tunnel, "10.0.0.0/8", in `table`. */
  routes: string[];
  table: number;
  /** Families whose default route goes through the tunnel, behind policy rules. */
  defaults: (4 | 6)[];
}

/** Which routes the config asks for. Prefixes already covered by an Address= subnet are skipped. */
export function planRoutes(config: WgQuickConfig): RoutePlan {
  const setting = config.interface.table ?? 'auto';
  const table = /^\d+$/.test(setting) ? Number(setting) : 254;
  const plan: RoutePlan = { routes: [], table, defaults: [] };
  if (setting === 'off') return plan;
  const connected = new Set(config.interface.addresses.map((a) => formatCidr(cidrNetwork(parseCidr(a)))));
  const seen = new Set<string>();
  for (const peer of config.peers) {
    for (const prefix of peer.allowedIps) {
      const cidr = cidrNetwork(parseCidr(prefix));
      const text = formatCidr(cidr);
      if (seen.has(text) || connected.has(text)) continue;
      seen.add(text);
      if (cidr.prefix === 0 && setting === 'auto') plan.defaults.push(cidr.address.length === 16 ? 6 : 4);
      else plan.routes.push(text);
    }
  }
  return plan;
}

function policyRules(family: 4 | 6, udpPort: number): Extract<HostChange, { kind: 'rule' }>[] {
  return [
    { kind: 'rule', family, priority: RULE_PRIORITY, udpSourcePort: udpPort },
    { kind: 'rule', family, priority: RULE_PRIORITY + 1, suppressPrefixLength: 0 },
    { kind: 'rule', family, priority: RULE_PRIORITY + 2, table: DEFAULT_ROUTE_TABLE },
  ];
}

/** Installs the planned routes and rules; rules go to the journal first. Returns what to remove on exit. */
export function installRoutes(
  api: LinuxHostApi,
  name: string,
  plan: RoutePlan,
  udpPort: number,
  journal: Journal,
  log: Logger,
): () => void {
  const installed: { prefix: string; table: number }[] = [];
  for (const prefix of plan.routes) {
    if (ignoring(['EEXIST'], () => api.addRoute(name, prefix, { table: plan.table })) === undefined) {
      log.debug({ prefix }, 'route already present');
    }
    installed.push({ prefix, table: plan.table });
  }
  for (const family of plan.defaults) {
    const prefix = family === 4 ? '0.0.0.0/0' : '::/0';
    api.addRoute(name, prefix, { table: DEFAULT_ROUTE_TABLE });
    installed.push({ prefix, table: DEFAULT_ROUTE_TABLE });
    for (const rule of policyRules(family, udpPort)) {
      journal.record(rule);
      ignoring(['EEXIST'], () => api.addRule(rule));
    }
  }
  log.info(
    { routes: installed.map((r) => (r.table === 254 ? r.prefix : `${r.prefix} table ${r.table}`)) },
    'routes installed',
  );
  return () => {
    for (const { prefix, table } of installed)
      ignoring(['ENOENT', 'ESRCH', 'ENODEV'], () => api.removeRoute(name, prefix, { table }));
  };
}
