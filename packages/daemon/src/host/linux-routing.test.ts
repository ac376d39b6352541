// Which routes a config asks for, and the policy rules in front of them: the daemon's own UDP never
// meets a tunnel route, and everything else is routed as one longest-prefix match over main plus
// the tunnel's table would route it (checked against a model of the kernel's rule walk).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatKey, generatePrivateKey, parseWgQuick, publicKeyFrom } from '@tunkit/wireguard';
import fc from 'fast-check';
import { type HostChange, Journal } from '../journal.js';
import { createLogger } from '../logger.js';
import {
  chooseSlot,
  installRoutes,
  type PolicyRuleChange,
  planRoutes,
  policyRules,
  slotTable,
} from './linux-routing.js';

const key = () => formatKey(generatePrivateKey());
const config = (extra: string, allowed: string) =>
  parseWgQuick(
    `[Interface]\nPrivateKey = ${key()}\nAddress = 10.99.0.2/24, fd99::2/64\n${extra}\n[Peer]\nPublicKey = ${formatKey(publicKeyFrom(generatePrivateKey()))}\nAllowedIPs = ${allowed}\n`,
  );

describe('planRoutes', () => {
  it('routes each AllowedIPs prefix once, skips the Address= subnets, and uses its own table by default', () => {
    const plan = planRoutes(config('', '10.99.0.0/24, 10.88.2.7/24, 10.88.2.0/24, fd99::/64, 0.0.0.0/0, ::/0'));
    assert.deepEqual(plan, { routes: ['10.88.2.0/24', '0.0.0.0/0', '::/0'], table: 'own' });
  });
  it('honours Table = off and Table = <number>', () => {
    assert.deepEqual(planRoutes(config('Table = off', '10.1.0.0/16, 0.0.0.0/0')).routes, []);
    const numbered = planRoutes(config('Table = 1234', '10.1.0.0/16, 0.0.0.0/0'));
    assert.deepEqual(numbered, { routes: ['10.1.0.0/16', '0.0.0.0/0'], table: 1234 });
  });
});

describe('policyRules', () => {
  it('for 0.0.0.0/0 and ::/0 alone, are the source-port rule then wg-quick’s pair, per family', () => {
    const rules = policyRules(['0.0.0.0/0', '::/0'], 51820, 31000, 40000).map(({ kind: _, ...r }) => r);
    assert.deepEqual(rules, [
      { family: 4, priority: 31000, udpSourcePort: 40000 },
      { family: 4, priority: 31001, suppressPrefixLength: 0 },
      { family: 4, priority: 31002, table: 51820 },
      { family: 6, priority: 31000, udpSourcePort: 40000 },
      { family: 6, priority: 31001, suppressPrefixLength: 0 },
      { family: 6, priority: 31002, table: 51820 },
    ]);
  });
  it('has a source-port rule whenever a family has routes, including the 0.0.0.0/1 + 128.0.0.0/1 split', () => {
    const rules = policyRules(['0.0.0.0/1', '128.0.0.0/1', '10.88.2.0/24'], 51820, 31000, 51821);
    assert.deepEqual(rules[0], { kind: 'rule', family: 4, priority: 31000, udpSourcePort: 51821 });
    assert.deepEqual(
      rules.slice(1).map((r) => [r.priority, r.table ?? 'main', r.suppressPrefixLength]),
      [
        [31001, 'main', 24],
        [31002, 51820, 23],
        [31003, 'main', 1],
        [31004, 51820, 0],
      ],
    );
    assert.ok(rules.every((r) => r.family === 4));
    assert.ok(policyRules(['10.0.0.0/8'], 51820, 31000, 1).length + 1 <= 1 + 2 * 33);
  });

  // A model of the kernel's rule walk: each rule's table gives its longest match for the
  // destination; a match no longer than suppress_prefixlength is rejected and the walk goes on.
  type Route = { network: number; prefix: number; table: number };
  const MAIN = 254;
  const covers = (r: Route, address: number) =>
    r.prefix === 0 || r.network >>> (32 - r.prefix) === address >>> (32 - r.prefix);
  const longest = (routes: Route[], table: number, address: number) =>
    routes.filter((r) => r.table === table && covers(r, address)).sort((a, b) => b.prefix - a.prefix)[0];
  function walk(rules: PolicyRuleChange[], routes: Route[], address: number, sourcePort: number) {
    for (const rule of rules) {
      if (rule.udpSourcePort !== undefined && rule.udpSourcePort !== sourcePort) continue;
      const match = longest(routes, rule.table ?? MAIN, address);
      if (!match) continue;
      if (rule.suppressPrefixLength !== undefined && match.prefix <= rule.suppressPrefixLength) continue;
      return match;
    }
    return longest(routes, MAIN, address); // the main rule, 32766
  }
  const route = fc
    .record({ network: fc.integer({ min: 0, max: 0xffff_ffff }), prefix: fc.integer({ min: 0, max: 32 }) })
    .map(({ network, prefix }) => ({
      network: prefix === 0 ? 0 : ((network >>> (32 - prefix)) << (32 - prefix)) >>> 0,
      prefix,
    }));
  /** An address that shares its first `keep` bits with `base` (so it often hits the generated routes). */
  const near = (base: number, keep: number, bits: number) =>
    keep === 0
      ? bits >>> 0
      : keep >= 32
        ? base
        : (((base >>> (32 - keep)) << (32 - keep)) | (bits & (2 ** (32 - keep) - 1))) >>> 0;
  const text = (r: { network: number; prefix: number }) =>
    `${[24, 16, 8, 0].map((s) => (r.network >>> s) & 0xff).join('.')}/${r.prefix}`;

  it('route like one longest-prefix match over main + tunnel (ties to the tunnel), and the own UDP by main', () => {
    fc.assert(
      fc.property(
        fc.array(route, { minLength: 1, maxLength: 8 }),
        fc.array(route, { maxLength: 8 }),
        fc.nat(),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        (tunnel, main, pick, keep, bits) => {
          const bases = [...tunnel, ...main];
          const destination = near((bases[pick % bases.length] as { network: number }).network, keep, bits);
          const unique = (rs: typeof tunnel) => [...new Map(rs.map((r) => [text(r), r])).values()];
          const routes: Route[] = [
            ...unique(tunnel).map((r) => ({ ...r, table: 51820 })),
            ...unique(main).map((r) => ({ ...r, table: MAIN })),
          ];
          const rules = policyRules(unique(tunnel).map(text), 51820, 31000, 51821);
          const all = routes.filter((r) => covers(r, destination));
          const best = Math.max(-1, ...all.map((r) => r.prefix));
          const expected =
            all.find((r) => r.prefix === best && r.table === 51820) ?? all.find((r) => r.prefix === best);
          assert.deepEqual(walk(rules, routes, destination, 12345), expected);
          // The own UDP uses main whenever main has a route there. (With none, the kernel's walk goes
          // on past the source-port rule: the endpoint is unreachable through the real network anyway.)
          const own = longest(routes, MAIN, destination);
          if (own) assert.deepEqual(walk(rules, routes, destination, 51821), own);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('installRoutes', () => {
  it('adds the unreachable twins, then rules, then routes, and moves the source-port rules when the listen port changes', () => {
    const calls: string[] = [];
    const api = {
      addRule: (r: { priority: number; udpSourcePort?: number }) =>
        calls.push(`+rule ${r.priority} ${r.udpSourcePort ?? ''}`),
      removeRule: (r: { priority: number; udpSourcePort?: number }) =>
        calls.push(`-rule ${r.priority} ${r.udpSourcePort ?? ''}`),
      addRoute: (_: string, prefix: string, o: { table?: number }) => calls.push(`+route ${prefix} ${o.table}`),
      removeRoute: (_: string, prefix: string, o: { table?: number }) => calls.push(`-route ${prefix} ${o.table}`),
      addUnreachableRoute: (prefix: string, o: { table?: number }) => calls.push(`+unreachable ${prefix} ${o.table}`),
      removeUnreachableRoute: (prefix: string, o: { table?: number }) =>
        calls.push(`-unreachable ${prefix} ${o.table}`),
      removeAddress: () => {},
      interfaceState: () => ({}),
    };
    const journal = Journal.open('tk0', mkdtempSync(join(tmpdir(), 'tunkit-routing-')));
    const recorded = journal.pending as HostChange[];
    const log = createLogger({ level: 'fatal', format: 'json', name: 'test' });
    const plan = { routes: ['0.0.0.0/1', '128.0.0.0/1'], table: 'own' as const };
    const installed = installRoutes(api as never, 'tk0', plan, 51821, 1, journal, log);
    const { table, priority } = slotTable(1);
    assert.equal(installed.table, table);
    assert.deepEqual(calls, [
      `+unreachable 0.0.0.0/1 ${table}`,
      `+unreachable 128.0.0.0/1 ${table}`,
      `+rule ${priority} 51821`,
      `+rule ${priority + 1} `,
      `+rule ${priority + 2} `,
      `+route 0.0.0.0/1 ${table}`,
      `+route 128.0.0.0/1 ${table}`,
    ]);
    // Journalled in that order, so undone newest first: the rules go before the twins.
    assert.deepEqual(
      recorded.map((c) => c.kind),
      ['unreachable-route', 'unreachable-route', 'rule', 'rule', 'rule'],
    );
    calls.length = 0;
    installed.useUdpPorts([51821, 51900]); // before the rebind: both ports covered
    installed.useUdpPorts([51900]); // after
    assert.deepEqual(calls, [`+rule ${priority} 51900`, `-rule ${priority} 51821`]);
    assert.deepEqual(
      recorded
        .filter((c) => c.kind === 'rule' && c.udpSourcePort !== undefined)
        .map((c) => (c as PolicyRuleChange).udpSourcePort),
      [51900],
    );
    assert.equal(installed.rules.filter((r) => r.udpSourcePort === 51900).length, 1);
    // Table = <number> is the user's policy: routes only, no rules and no twins.
    calls.length = 0;
    recorded.length = 0;
    installRoutes(api as never, 'tk0', { routes: ['10.1.0.0/16'], table: 1234 }, 51821, 0, journal, log);
    assert.deepEqual(calls, ['+route 10.1.0.0/16 1234']);
    assert.deepEqual(recorded, []);
  });
  it('moves to another set of routes: what is new first (twins, rules, routes), then what went (routes, twins, rules)', () => {
    const calls: string[] = [];
    const api = {
      addRule: (r: PolicyRuleChange) => calls.push(`+rule ${r.family} ${r.priority}`),
      removeRule: (r: PolicyRuleChange) => calls.push(`-rule ${r.family} ${r.priority}`),
      addRoute: (_: string, prefix: string) => calls.push(`+route ${prefix}`),
      removeRoute: (_: string, prefix: string) => calls.push(`-route ${prefix}`),
      addUnreachableRoute: (prefix: string) => calls.push(`+unreachable ${prefix}`),
      removeUnreachableRoute: (prefix: string) => calls.push(`-unreachable ${prefix}`),
      removeAddress: () => {},
      interfaceState: () => ({}),
    };
    const journal = Journal.open('tk1', mkdtempSync(join(tmpdir(), 'tunkit-routing-')));
    const log = createLogger({ level: 'fatal', format: 'json', name: 'test' });
    const { table, priority } = slotTable(0);
    const installed = installRoutes(
      api as never,
      'tk1',
      { routes: ['10.1.0.0/16', '10.2.0.0/16'], table: 'own' },
      51820,
      0,
      journal,
      log,
    );
    calls.length = 0;
    const change = installed.update(['10.1.0.0/16', '10.3.0.0/24', 'fd00::/8'], 51820);
    assert.deepEqual(change, { added: ['10.3.0.0/24', 'fd00::/8'], removed: ['10.2.0.0/16'] });
    assert.deepEqual(calls, [
      '+unreachable 10.3.0.0/24',
      '+unreachable fd00::/8',
      // the IPv4 ladder gains the /24 rungs (the /16 rungs move up: new priorities), IPv6 gets its rules
      `+rule 4 ${priority + 1}`,
      `+rule 4 ${priority + 2}`,
      `+rule 4 ${priority + 3}`,
      `+rule 4 ${priority + 4}`,
      `+rule 6 ${priority}`,
      `+rule 6 ${priority + 1}`,
      `+rule 6 ${priority + 2}`,
      '+route 10.3.0.0/24',
      '+route fd00::/8',
      '-route 10.2.0.0/16',
      '-unreachable 10.2.0.0/16',
      `-rule 4 ${priority + 1}`,
      `-rule 4 ${priority + 2}`,
    ]);
    const expected = policyRules(['10.1.0.0/16', '10.3.0.0/24', 'fd00::/8'], table, priority, 51820);
    const key = (r: PolicyRuleChange) => JSON.stringify(r);
    assert.deepEqual(installed.rules.map(key).sort(), expected.map(key).sort());
    assert.deepEqual([...installed.routes].sort(), ['10.1.0.0/16', '10.3.0.0/24', 'fd00::/8']);
    // The journal lists exactly what stands: those rules and one twin per route.
    const pending = Journal.open('tk1', join(journal.path, '..')).pending;
    assert.deepEqual(
      pending
        .filter((c) => c.kind === 'rule')
        .map((r) => key(r as PolicyRuleChange))
        .sort(),
      expected.map(key).sort(),
    );
    assert.deepEqual(
      pending
        .filter((c) => c.kind === 'unreachable-route')
        .map((c) => (c as { prefix: string }).prefix)
        .sort(),
      ['10.1.0.0/16', '10.3.0.0/24', 'fd00::/8'],
    );
  });

  it('picks the first table no other live daemon of the namespace uses', () => {
    assert.equal(chooseSlot(new Set()), 0);
    assert.equal(chooseSlot(new Set([51820, 51822])), 1);
    assert.throws(() => chooseSlot(new Set([51820, 51821, 51822, 51823, 51824, 51825])), /already route/);
  });
});
