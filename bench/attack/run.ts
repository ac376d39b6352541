// bench/attack: the gateway on a hostile network (issue 12). Each scenario (scenarios.ts) runs
// against each gateway (gateways.ts: Debian's wireguard-go, upstream wireguard-go where
// ../shared/anchors/wireguard-go/build.sh builds it, tunkit-gateway), one after the other, each in
// a fresh lab (scripts/lab: client — gateway — server, plus an attacker namespace joined to the
// gateway, attacker.mjs). The clients are Debian's wireguard-go for every gateway. While a bounded
// flood (udp-flood.c, its achieved rate printed) hits the gateway's UDP port:
//   - a ping crosses the tunnel (20/s): loss, average and largest round trip;
//   - a new client starts 2 s in: seconds until its handshake completed (at most 10 s waited);
//   - the gateway's CPU (share of one core) and resident memory (sampled every 100 ms);
//   - what it counted: tunkit's /metrics, and every gateway's kernel UDP counters;
//   - near the end, with the flood still on, SIGTERM: exit code, time to exit, what was left.
// One markdown table and JSON (bench/results/attack-*.json); issue 12's targets are checked under
// the table against Debian's wireguard-go in the same run.
// Run (root): node --import tsx bench/attack/run.ts [--seconds 15] [--only 1,4] [--gateways tunkit,debian,upstream]
// The whole run (6 scenarios × 3 gateways, 15 s each) takes about 6 minutes; it prints how long it took.

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// @ts-expect-error: plain ESM module without types.
import { addAttacker, startFlood } from '../../scripts/lab/attacker.mjs';
// @ts-expect-error: plain ESM module without types.
import { createLab, waitFor } from '../../scripts/lab/topology.mjs';
// @ts-expect-error: plain ESM module without types.
import { ensureSystemTools } from '../../scripts/system-deps.mjs';
import type { Lab } from '../iperf3/contenders.js';
import { calibrate } from '../lib/calibration.js';
import { markdownTable, writeResults } from '../lib/report.js';
import { type Gateway, gateways, handshakeDone, startClient, TUNNEL, wgKeyPair } from './gateways.js';
import { cpuSecondsOf, kernelUdp, type PingResult, rssMb, sampleRss, startPing } from './measure.js';
import { type Attacker, SCENARIOS, type Scenario } from './scenarios.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    only: { type: 'string' },
    gateways: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
if (!(SECONDS >= 12 && SECONDS <= 120))
  throw new Error(`--seconds ${values.seconds}: give 12..120 (the new client gets 10 s)`);
const PING_INTERVAL = 0.05;
const NEW_CLIENT_AT = 2;
const NEW_CLIENT_WAIT = 10;

interface Row {
  scenario: number;
  gateway: string;
  attack?: { sent: number; rate: number; errors: number };
  idlePingMs?: number;
  ping?: PingResult;
  cpuPercent?: number;
  rssBeforeMb?: number;
  rssPeakMb?: number;
  /** Seconds until the new client's handshake completed; null: not within NEW_CLIENT_WAIT. */
  newClientS?: number | null;
  sigterm?: { code: number | string; ms: number; leftovers: string[] };
  kernel?: { inDatagrams: number; rcvbufErrors: number };
  counted?: Record<string, number>;
  note?: string;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** tunkit's counters that say what it did with a flood: non-zero differences only. */
function countedDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [series, value] of after) {
    const reason = /^tunkit_wireguard_drops_total\{reason="([^"]+)"\}$/.exec(series)?.[1];
    const name =
      reason ??
      {
        tunkit_wireguard_cookies_sent_total: 'cookies sent',
        'tunkit_wireguard_handshakes_total{kind="answered"}': 'handshakes answered',
        tunkit_udp_rx_bad_source_total: 'udp bad source',
        tunkit_udp_tx_bad_endpoint_total: 'udp bad endpoint',
        tunkit_udp_rx_dropped_total: 'udp rx dropped',
        tunkit_udp_rx_datagrams_total: 'udp rx',
      }[series];
    if (name === undefined) continue;
    const delta = value - (before.get(series) ?? 0);
    if (delta !== 0) out[name] = delta;
  }
  return out;
}

async function runOne(scenario: Scenario, gateway: Gateway): Promise<Row> {
  const row: Row = { scenario: scenario.id, gateway: gateway.name };
  const lab = createLab() as Lab;
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-attack-'));
  try {
    const attacker = addAttacker(lab, { sources: scenario.sources }) as Attacker;
    const peers = { client: wgKeyPair(), newClient: wgKeyPair() };
    const running = await gateway.setup(lab, peers);
    await startClient(lab, peers.client, running.publicKey, {
      address: TUNNEL.client,
      tag: 'wc',
      route: true,
    });
    const pingOnce = () => {
      try {
        lab.exec('client', 'ping', ['-c', '1', '-W', '1', TUNNEL.gateway]);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor('a ping through the tunnel', pingOnce, 15_000);
    row.idlePingMs = (await startPing(lab, TUNNEL.gateway, 20, PING_INTERVAL)).avgMs;
    const plan = await scenario.prepare({ lab, attacker, gatewayKey: running.publicKey, dir, ping: pingOnce });
    if (plan.note) row.note = plan.note;
    await sleep(1500); // what preparing did (scenario 3's loading flood) settles; the gateway is not under load

    const metricsBefore = running.metrics?.();
    const kernelBefore = kernelUdp(lab);
    row.rssBeforeMb = rssMb(running.pid);
    const rss = sampleRss(running.pid);
    const cpuBefore = cpuSecondsOf(running.pid);
    const started = performance.now();
    const flood = startFlood(lab, attacker, {
      port: TUNNEL.port,
      rate: plan.rate,
      seconds: SECONDS,
      pool: plan.pool,
      ...(plan.sources ? { sources: plan.sources } : {}),
      ...(plan.sourcePort !== undefined ? { sourcePort: plan.sourcePort } : {}),
    });
    await sleep(500);
    // The ping ends about 3.5 s before the flood, leaving time to read the counters and SIGTERM the
    // gateway while the flood is still on.
    const pingCount = Math.floor((SECONDS - 4) / PING_INTERVAL);
    const ping = startPing(lab, TUNNEL.gateway, pingCount, PING_INTERVAL);
    await sleep(NEW_CLIENT_AT * 1000 - 500);
    const newClientStarted = performance.now();
    const newClient = await startClient(lab, peers.newClient, running.publicKey, {
      address: TUNNEL.newClient,
      tag: 'wn',
      route: false,
      keepalive: 1,
    });
    row.newClientS = null;
    while (performance.now() - newClientStarted < NEW_CLIENT_WAIT * 1000) {
      if (handshakeDone(lab, newClient)) {
        row.newClientS = (performance.now() - newClientStarted) / 1000;
        break;
      }
      await sleep(100);
    }
    row.ping = await ping;
    const elapsed = (performance.now() - started) / 1000;
    row.cpuPercent = ((cpuSecondsOf(running.pid) - cpuBefore) / elapsed) * 100;
    row.rssPeakMb = rss.stop();
    const kernelAfter = kernelUdp(lab);
    row.kernel = {
      inDatagrams: kernelAfter.inDatagrams - kernelBefore.inDatagrams,
      rcvbufErrors: kernelAfter.rcvbufErrors - kernelBefore.rcvbufErrors,
    };
    if (metricsBefore && running.metrics) row.counted = countedDelta(metricsBefore, running.metrics());
    // SIGTERM while the flood is still on (it runs SECONDS; we are about SECONDS - 3 in).
    if ((performance.now() - started) / 1000 < SECONDS - 0.5) row.sigterm = await running.stop();
    else row.note = [row.note, 'the flood had ended before SIGTERM (slow machine)'].filter(Boolean).join('; ');
    const report = await flood.done;
    row.attack = { sent: report.sent, rate: report.rate, errors: report.errors };
    if (!row.sigterm) row.sigterm = await running.stop();
  } catch (error) {
    row.error = (error as Error).message.split('\n')[0];
  } finally {
    lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return row;
}

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const compact = (n: number) => (Math.abs(n) >= 10_000 ? `${Math.round(n / 1000)}k` : String(n));

function countedText(row: Row): string {
  const parts: string[] = [];
  if (row.counted) {
    const entries = Object.entries(row.counted)
      .filter(([name]) => name !== 'udp rx')
      .sort((a, b) => b[1] - a[1]);
    parts.push(...entries.slice(0, 5).map(([name, n]) => `${name} ${compact(n)}`));
  }
  if (row.kernel)
    parts.push(`kernel: in ${compact(row.kernel.inDatagrams)}, rcvbuf drops ${compact(row.kernel.rcvbufErrors)}`);
  return parts.join('; ');
}

function tableRows(rows: Row[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    scenario: r.scenario,
    gateway: r.gateway,
    'attack /s': r.attack ? compact(Math.round(r.attack.rate)) : '–',
    'ping idle ms': fmt(r.idlePingMs, 2),
    'loss %': fmt(r.ping?.lossPercent),
    'avg ms': fmt(r.ping?.avgMs, 2),
    'max ms': fmt(r.ping?.maxMs, 1),
    'CPU %': fmt(r.cpuPercent, 0),
    'RSS MB (peak, +growth)':
      r.rssPeakMb === undefined ? '–' : `${fmt(r.rssPeakMb, 0)} (+${fmt(r.rssPeakMb - (r.rssBeforeMb ?? 0), 0)})`,
    'new client s':
      r.newClientS === undefined ? '–' : r.newClientS === null ? `> ${NEW_CLIENT_WAIT}` : fmt(r.newClientS, 1),
    SIGTERM: r.sigterm
      ? `${r.sigterm.code}, ${Math.round(r.sigterm.ms)} ms${r.sigterm.leftovers.length ? `, left ${r.sigterm.leftovers.join(' ')}` : ', clean'}`
      : '–',
    counted: r.error ? `ERROR: ${r.error}` : countedText(r),
  }));
}

/** Issue 12's targets for tunkit, against Debian's wireguard-go in the same scenario. */
function targetChecks(rows: Row[], reference: string, tunkit: string): string[] {
  const lines: string[] = [];
  for (const scenario of SCENARIOS) {
    const ours = rows.find((r) => r.scenario === scenario.id && r.gateway === tunkit);
    const theirs = rows.find((r) => r.scenario === scenario.id && r.gateway === reference);
    if (!ours) continue;
    if (ours.error || !ours.ping) {
      lines.push(`scenario ${scenario.id}: tunkit did not run: ${ours.error ?? 'no ping'}`);
      continue;
    }
    const checks: string[] = [];
    const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
    checks.push(`loss ${fmt(ours.ping.lossPercent)} % ≤ 1 %: ${mark(ours.ping.lossPercent <= 1)}`);
    if (theirs?.ping && !Number.isNaN(theirs.ping.avgMs)) {
      const bound = 2 * theirs.ping.avgMs + 5;
      checks.push(
        `avg ${fmt(ours.ping.avgMs, 2)} ms ≤ 2 × ${fmt(theirs.ping.avgMs, 2)} + 5 = ${fmt(bound, 2)} ms: ${mark(ours.ping.avgMs <= bound)}`,
      );
    } else {
      checks.push('avg RTT: no wireguard-go figure in this run');
    }
    checks.push(
      `new client ${ours.newClientS === null || ours.newClientS === undefined ? `> ${NEW_CLIENT_WAIT}` : fmt(ours.newClientS, 1)} s ≤ 10 s: ${mark(ours.newClientS !== null && ours.newClientS !== undefined && ours.newClientS <= 10)}`,
    );
    const s = ours.sigterm;
    checks.push(
      `SIGTERM exit ${s?.code}, ${Math.round(s?.ms ?? Number.NaN)} ms, ${s?.leftovers.length ? `left ${s.leftovers.join(' ')}` : 'clean'}: ${mark(s?.code === 0 && s.ms <= 2000 && s.leftovers.length === 0)}`,
    );
    const growth = (ours.rssPeakMb ?? 0) - (ours.rssBeforeMb ?? 0);
    checks.push(`RSS +${fmt(growth, 0)} MB < 50 MB: ${mark(growth < 50)}`);
    lines.push(`scenario ${scenario.id}: ${checks.join('; ')}`);
  }
  return lines;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/attack needs root (network namespaces, raw sockets)');
  ensureSystemTools(['ip', 'ping', 'wireguard-go', 'wg']);
  calibrate(); // before any gateway runs (writeResults prints it)
  const runStarted = performance.now();
  const load: { before: number; after?: number } = { before: loadavg()[0] as number };
  const only = values.only ? new Set(values.only.split(',').map(Number)) : undefined;
  const scenarios = SCENARIOS.filter((s) => !only || only.has(s.id));
  const { list, skipped } = gateways();
  const wanted = values.gateways?.split(',');
  const contenders = list.filter((g) => !wanted || wanted.some((w) => g.name.toLowerCase().includes(w.toLowerCase())));
  for (const line of skipped) console.log(line);
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    for (const gateway of contenders) {
      process.stdout.write(`scenario ${scenario.id} (${scenario.name}) against ${gateway.name} … `);
      const row = await runOne(scenario, gateway);
      rows.push(row);
      console.log(
        row.error
          ? `error: ${row.error}`
          : `ping loss ${fmt(row.ping?.lossPercent)} %, avg ${fmt(row.ping?.avgMs, 2)} ms`,
      );
    }
  }
  load.after = loadavg()[0] as number;
  const reference = contenders.find((g) => g.reference)?.name ?? '';
  const notes = [
    ...SCENARIOS.filter((s) => scenarios.includes(s)).map((s) => `scenario ${s.id}: ${s.name}`),
    ...rows.filter((r) => r.note).map((r) => `scenario ${r.scenario}, ${r.gateway}: ${r.note}`),
    ...skipped,
    `attack ${SECONDS} s per run; ping every ${PING_INTERVAL * 1000} ms through the tunnel to the gateway's tunnel address; new client ${NEW_CLIENT_AT} s in; SIGTERM 1 to 3 s before the flood ends`,
    `load average ${load.before.toFixed(2)} before, ${(load.after as number).toFixed(2)} after (2 cores shared: figures from a busy machine are not final)`,
  ];
  const checks = targetChecks(rows, reference, 'tunkit-gateway');
  console.log(
    `\n${markdownTable(tableRows(rows))}\n\n${notes.join('\n')}\n\nTargets (tunkit-gateway vs ${reference || 'no reference'}, same run):\n${checks.join('\n')}`,
  );
  const path = writeResults('attack', { seconds: SECONDS, load, rows, targets: checks }); // prints the calibration line
  console.log(`\nresults: ${path}`);
  const minutes = (performance.now() - runStarted) / 60_000;
  console.log(`${rows.length} runs of ${SECONDS} s took ${minutes.toFixed(1)} min`);
}

await main();
