// Routes for the peers' AllowedIPs, and the policy rules that keep the daemon's own encrypted UDP
// out of the tunnel whatever the AllowedIPs and the endpoints are.
//
// Table = auto (the default): every prefix is routed through the tunnel in the daemon's own table
// (51820, or the next free one when another tunkit daemon in this network namespace holds it),
// never in main, behind these rules (per family, lowest priority first):
//   1. UDP from the daemon's listen port → main. Main holds no tunnel route, so the encrypted UDP
//      leaves through the real network even when an AllowedIPs prefix (0.0.0.0/1, a /8, /0...)
//      covers an endpoint — and it stays so when the endpoint roams or `wg set` changes it.
//   2. A "ladder" that gives the same answer as one longest-prefix match over main plus the
//      tunnel table (what wg-quick's main-table routes give): for each distinct tunnel prefix
//      length L, longest first, "main, routes longer than L" then "tunnel table, routes of L or
//      longer". A /0 alone gives wg-quick's pair: main suppress_prefixlength 0, then the table.
// Why not a host route to each endpoint via the original gateway: it goes stale when the peer
// roams, when `wg set` moves the endpoint, when the underlay's gateway changes (DHCP, Wi-Fi),
// and tun-linux's route API has no `via`. The source-port rule depends on none of these.
// Each route in the daemon's table has an unreachable twin behind it (the largest metric), which
// outlives the TUN: when the device is deleted under the daemon, or the daemon is killed, what the
// tunnel routed is refused (ENETUNREACH, ICMP unreachable) rather than leaked through main in
// plain text, until the rules are removed (the daemon's stop, the next start, or --cleanup).
// Table = <number>: routes in that table, no rules (the user's policy, as wg-quick). Table = off:
// nothing. Matching the source port needs no socket option on the bind (unlike wg-quick's fwmark).

import { cidrNetwork, formatCidr, parseCidr } from '@tunkit/tun-core';
import type { WgQuickConfig } from '@tunkit/wireguard';
import type { HostChange, Journal } from '../journal.js';
import type { Logger } from '../logger.js';
import { StartupError } from '../startup-error.js';
import { ignoring, type LinuxHostApi } from './linux-api.js';

/** The tunnel's own table (wg-quick's default too); a second daemon in the namespace takes the next. */
export const DEFAULT_ROUTE_TABLE = 51820;
/** Priority of the first rule (the source-port rule), before the main table's rule (32766). */
export const RULE_PRIORITY = 31000;
/** Priorities one daemon may use per family: the source-port rule plus two per prefix length (0..128). */
export const RULE_BLOCK = 260;
/** Daemons with their own table and rule block in one network namespace (31000 + 6 × 260 < 32766). */
export const MAX_SLOTS = 6;

export type PolicyRuleChange = Extract<HostChange, { kind: 'rule' }>;

export interface RoutePlan {
  /** Routes through the tunnel, "10.0.0.0/8". */
  routes: string[];
  /** 'own': the daemon's table behind policy rules (Table = auto); else the table Table= names. */
  table: 'own' | number;
}

/** Which routes the config asks for. Prefixes already covered by an Address= subnet are skipped. */
export function planRoutes(config: WgQuickConfig): RoutePlan {
  const setting = config.interface.table ?? 'auto';
  const plan: RoutePlan = { routes: [], table: /^\d+$/.test(setting) ? Number(setting) : 'own' };
  if (setting === 'off') return plan;
  const connected = new Set(config.interface.addresses.map((a) => formatCidr(cidrNetwork(parseCidr(a)))));
  const seen = new Set<string>();
  for (const peer of config.peers) {
    for (const prefix of peer.allowedIps) {
      const text = formatCidr(cidrNetwork(parseCidr(prefix)));
      if (seen.has(text) || connected.has(text)) continue;
      seen.add(text);
      plan.routes.push(text);
    }
  }
  return plan;
}

/** The table and first rule priority of slot `slot` (see chooseSlot). */
export function slotTable(slot: number): { table: number; priority: number } {
  return { table: DEFAULT_ROUTE_TABLE + slot, priority: RULE_PRIORITY + slot * RULE_BLOCK };
}

/**
 * The first slot whose table no other live daemon of this network namespace uses (`used`: the
 * tables in their journals). Throws when all are taken.
 */
export function chooseSlot(used: ReadonlySet<number>): number {
  for (let slot = 0; slot < MAX_SLOTS; slot++) if (!used.has(slotTable(slot).table)) return slot;
  throw new Error(`${MAX_SLOTS} tunkit daemons already route through their own tables in this namespace`);
}

/** The source-port rule of one family: the daemon's own UDP looks up main, which has no tunnel route. */
export function sourcePortRule(family: 4 | 6, priority: number, udpPort: number): PolicyRuleChange {
  return { kind: 'rule', family, priority, udpSourcePort: udpPort };
}

/**
 * The rules for `routes` in `table` (Table = auto): per family with routes, the source-port rule
 * at `priority`, then the ladder (see the file header) at the priorities after it.
 */
export function policyRules(
  routes: readonly string[],
  table: number,
  priority: number,
  udpPort: number,
): PolicyRuleChange[] {
  const rules: PolicyRuleChange[] = [];
  for (const family of [4, 6] as const) {
    const lengths = [
      ...new Set(
        routes
          .map(parseCidr)
          .filter((c) => (c.address.length === 16 ? 6 : 4) === family)
          .map((c) => c.prefix),
      ),
    ].sort((a, b) => b - a);
    if (lengths.length === 0) continue;
    const full = family === 4 ? 32 : 128;
    let next = priority;
    rules.push(sourcePortRule(family, next++, udpPort));
    for (const length of lengths) {
      // main routes longer than `length` beat a tunnel route of `length` (none is longer than a host route)
      if (length < full) rules.push({ kind: 'rule', family, priority: next++, suppressPrefixLength: length });
      rules.push({
        kind: 'rule',
        family,
        priority: next++,
        table,
        ...(length > 0 ? { suppressPrefixLength: length - 1 } : {}),
      });
    }
  }
  return rules;
}

/** What installRoutes did: the table and rules in use, and how to follow a listen-port change. */
export interface InstalledRoutes {
  table: number;
  /** The routes through the TUN now. */
  readonly routes: readonly string[];
  /** The rules in place now (the source-port ones follow useUdpPorts). */
  readonly rules: readonly PolicyRuleChange[];
  /**
   * Keeps source-port rules for exactly `ports` (0 is ignored): new ones are added before old
   * ones go, so a port being switched to is covered before the bind moves and after it.
   */
  useUdpPorts(ports: readonly number[]): void;
  /**
   * Moves to the routes `next` (a reload): the rules the new routes need and their unreachable
   * twins first, then the new routes; then the routes no longer wanted, their twins, and the rules
   * nothing needs any more. `udpPort`: the listen port now (for a new family's source-port rule).
   */
  update(next: readonly string[], udpPort: number): { added: string[]; removed: string[] };
  /** Removes the routes (the rules and twins are undone from the journal). */
  remove(): void;
}

/** A rule's identity, to compare rule sets. */
const ruleKey = (r: PolicyRuleChange) =>
  [r.family, r.priority, r.table ?? 'main', r.udpSourcePort ?? '', r.suppressPrefixLength ?? ''].join(' ');

/**
 * Installs the planned routes and rules; rules go to the journal before they are made. `slot`
 * (see chooseSlot) picks the table and priorities for Table = auto.
 */
export function installRoutes(
  api: LinuxHostApi,
  name: string,
  plan: RoutePlan,
  udpPort: number,
  slot: number,
  journal: Journal,
  log: Logger,
): InstalledRoutes {
  const { table: ownTable, priority } = slotTable(slot);
  const own = plan.table === 'own';
  const table = plan.table === 'own' ? ownTable : plan.table;
  let current: PolicyRuleChange[] = [];
  let routes: string[] = [];

  /** Records (one write) and adds rules. */
  const addRules = (rules: PolicyRuleChange[]) => {
    journal.recordAll(rules);
    for (const rule of rules) ignoring(['EEXIST'], () => api.addRule(rule));
    current = [...current, ...rules];
  };
  /** Removes rules and forgets them (one write). */
  const removeRules = (rules: PolicyRuleChange[]) => {
    for (const rule of rules) ignoring(['ENOENT'], () => api.removeRule(stripKind(rule)));
    journal.forgetAll(rules);
    current = current.filter((r) => !rules.includes(r));
  };
  /** Adds routes through the TUN (their twins and rules first). */
  const addRoutes = (prefixes: readonly string[]) => {
    for (const prefix of prefixes) {
      if (ignoring(['EEXIST'], () => addRouteExplained(api, name, prefix, table)) === undefined) {
        log.debug({ prefix }, 'route already present');
      }
    }
    routes = [...routes, ...prefixes];
  };

  // The unreachable twins before the rules (so undone after them, the journal going newest first):
  // when the TUN goes, by itself or with a killed process, its routes go with it and the twins
  // refuse what the tunnel routed, instead of the rules letting it fall through to main in plain
  // text, until the rules are gone.
  if (own) addUnreachableTwins(api, table, plan.routes, journal);
  // Rules next: a tunnel route in the table is never reachable without its ladder, and the
  // source-port rule is in place before any route could catch the daemon's own UDP.
  addRules(own ? policyRules(plan.routes, table, priority, udpPort) : []);
  addRoutes(plan.routes);
  if (plan.routes.length > 0) {
    log.info(
      { routes: plan.routes.length, table, rules: current.length > 0 ? `${current[0]?.priority}..` : undefined },
      'routes installed',
    );
  }
  return {
    table,
    get routes() {
      return routes;
    },
    get rules() {
      return current;
    },
    useUdpPorts(ports) {
      const wanted = new Set(ports.filter((p) => p > 0));
      const portRules = current.filter((r) => r.udpSourcePort !== undefined);
      const have = new Set(portRules.map((r) => r.udpSourcePort));
      if (portRules.length === 0 || (wanted.size === have.size && [...wanted].every((p) => have.has(p)))) return;
      const templates = portRules.filter((r) => r.udpSourcePort === portRules[0]?.udpSourcePort);
      const added: PolicyRuleChange[] = [];
      for (const port of wanted) {
        if (have.has(port)) continue;
        for (const template of templates) added.push({ ...template, udpSourcePort: port });
      }
      addRules(added);
      removeRules(portRules.filter((r) => !wanted.has(r.udpSourcePort as number)));
      log.info({ udpPorts: [...wanted] }, 'source-port rules follow the listen port');
    },
    update(next, port) {
      const added = next.filter((p) => !routes.includes(p));
      const removed = routes.filter((p) => !next.includes(p));
      const wanted = own ? policyRules(next, table, priority, port) : [];
      const wantedKeys = new Set(wanted.map(ruleKey));
      const haveKeys = new Set(current.map(ruleKey));
      // While a rule set changes, rules of both ladders may stand for a moment: never neither.
      if (own) addUnreachableTwins(api, table, added, journal);
      addRules(wanted.filter((r) => !haveKeys.has(ruleKey(r))));
      addRoutes(added);
      for (const prefix of removed)
        ignoring(['ENOENT', 'ESRCH', 'ENODEV'], () => api.removeRoute(name, prefix, { table }));
      routes = routes.filter((p) => !removed.includes(p));
      if (own) removeUnreachableTwins(api, table, removed, journal);
      removeRules(current.filter((r) => !wantedKeys.has(ruleKey(r))));
      return { added, removed };
    },
    remove() {
      for (const prefix of routes)
        ignoring(['ENOENT', 'ESRCH', 'ENODEV'], () => api.removeRoute(name, prefix, { table }));
    },
  };
}

/** Records (one write) and adds the unreachable routes behind the tunnel's routes to `prefixes` (see installRoutes). */
function addUnreachableTwins(api: LinuxHostApi, table: number, prefixes: readonly string[], journal: Journal): void {
  journal.recordAll(prefixes.map((prefix) => ({ kind: 'unreachable-route', table, prefix })));
  for (const prefix of prefixes) ignoring(['EEXIST'], () => api.addUnreachableRoute(prefix, { table }));
}

/** Removes the twins of `prefixes` and forgets them (one write). */
function removeUnreachableTwins(api: LinuxHostApi, table: number, prefixes: readonly string[], journal: Journal): void {
  const gone = new Set(prefixes);
  for (const prefix of prefixes) ignoring(['ESRCH', 'ENOENT'], () => api.removeUnreachableRoute(prefix, { table }));
  journal.forgetAll(
    journal.pending.filter((c) => c.kind === 'unreachable-route' && c.table === table && gone.has(c.prefix)),
  );
}

/**
 * Adds one route; an IPv6 route the kernel refuses with EACCES (what it answers while IPv6 is
 * disabled on the device) becomes a StartupError saying so, instead of a hint about privileges.
 */
function addRouteExplained(api: LinuxHostApi, name: string, prefix: string, table: number): void {
  try {
    api.addRoute(name, prefix, { table });
  } catch (error) {
    if ((error as { errno?: string }).errno !== 'EACCES' || !prefix.includes(':')) throw error;
    throw new StartupError(
      `the kernel refused the route ${prefix} through ${name} (EACCES), as it does when IPv6 is disabled ` +
        `on it (sysctl net.ipv6.conf.${name}.disable_ipv6, set from net.ipv6.conf.default): enable IPv6, or remove the IPv6 AllowedIPs`,
    );
  }
}

function stripKind(rule: PolicyRuleChange) {
  const { kind: _, ...spec } = rule;
  return spec;
}
