// Policy routing rules (`ip rule`) over rtnetlink: which routing table a packet looks up. A VPN
// client that routes everything (0.0.0.0/0, ::/0) through its tunnel uses three of them, so that
// its own encrypted UDP still leaves through the real network:
//   1. UDP from the tunnel's own source port → the main table;
//   2. the main table, but ignoring its default route (suppress_prefixlength 0);
//   3. everything else → the tunnel's table.

import { TunConfigError } from '@tunkit/tun-core';
import { MAIN_TABLE } from './interface-config.js';
import { callNative, native } from './native.js';

const IPPROTO_UDP = 17;

export interface PolicyRule {
  family: 4 | 6;
  /** Rule order, lower first (`ip rule ... pref N`), 1..32765. */
  priority: number;
  /** The table to look up (default main). */
  table?: number;
  /** Match only UDP from this source port. */
  udpSourcePort?: number;
  /** Ignore routes from `table` whose prefix length is at most this (0: ignore its default route). */
  suppressPrefixLength?: number;
}

function check(rule: PolicyRule): void {
  const bad = (what: string) => {
    throw new TunConfigError('ERR_TUN_RULE', `policy rule ${describeRule(rule)}: ${what}`);
  };
  if (rule.family !== 4 && rule.family !== 6) bad(`family ${rule.family} is not 4 or 6`);
  if (!Number.isInteger(rule.priority) || rule.priority < 1 || rule.priority > 32765)
    bad(`priority ${rule.priority} is outside 1..32765`);
  const table = rule.table ?? MAIN_TABLE;
  if (!Number.isInteger(table) || table < 1 || table > 0xffff_ffff) bad(`table ${table} is not a table number`);
  const port = rule.udpSourcePort;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
    bad(`UDP source port ${port} is outside 1..65535`);
  const suppress = rule.suppressPrefixLength;
  if (suppress !== undefined && (!Number.isInteger(suppress) || suppress < 0 || suppress > 128))
    bad(`suppress_prefixlength ${suppress} is outside 0..128`);
}

/** The rule as `ip rule` prints it, for messages. */
export function describeRule(rule: PolicyRule): string {
  const parts = [`-${rule.family}`, `pref ${rule.priority}`];
  if (rule.udpSourcePort !== undefined) parts.push(`ipproto udp sport ${rule.udpSourcePort}`);
  const table = rule.table ?? MAIN_TABLE;
  parts.push(`lookup ${table === MAIN_TABLE ? 'main' : table}`);
  if (rule.suppressPrefixLength !== undefined) parts.push(`suppress_prefixlength ${rule.suppressPrefixLength}`);
  return parts.join(' ');
}

function change(add: boolean, rule: PolicyRule): void {
  check(rule);
  const what = `${add ? 'adding' : 'removing'} rule ${describeRule(rule)}`;
  callNative(() =>
    native().changeRule(
      add,
      {
        family: rule.family,
        priority: rule.priority,
        table: rule.table ?? MAIN_TABLE,
        ipProtocol: rule.udpSourcePort !== undefined ? IPPROTO_UDP : 0,
        sourcePort: rule.udpSourcePort ?? 0,
        suppressPrefixLength: rule.suppressPrefixLength ?? -1,
      },
      what,
    ),
  );
}

/** Adds the rule; EEXIST when the very same rule is there. */
export function addRule(rule: PolicyRule): void {
  change(true, rule);
}

/** Removes the rule; ENOENT when there is no such rule. */
export function removeRule(rule: PolicyRule): void {
  change(false, rule);
}
