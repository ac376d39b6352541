// bench/iperf3: iperf3 through each contender's path in the three-namespace lab, side by side in
// one invocation: TCP forward and reverse, with 1 and 4 streams, UDP at a fixed offered rate; each daemon's
// CPU seconds (from /proc) and peak RSS. Median of N runs; JSON to bench/results/ and a markdown
// table with a ratio column against wireguard-go.
// Run (root): node --import tsx bench/iperf3/run.ts [--time 10] [--runs 3] [--udp-rate 1G] [--only tunkit,wireguard-go]
// [--cpu-prof]: the tunkit daemons run under node --cpu-prof; their top functions are printed.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// @ts-expect-error: plain ESM modules without types.
import { createLab, waitFor } from '../../scripts/lab/topology.mjs';
// @ts-expect-error: plain ESM modules without types.
import { ensureSystemTools } from '../../scripts/system-deps.mjs';
import { printProfiles } from '../lib/cpu-profile.js';
import { markdownTable, median, writeResults } from '../lib/report.js';
import { bareVeth, type Contender, type DaemonProcess, type Lab, tunkitPair, wireguardGo } from './contenders.js';

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    'udp-rate': { type: 'string', default: '1G' },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.time);
const runs = Number(values.runs);

type Test = { name: string; args: string[]; udp?: boolean };
const TESTS: Test[] = [
  { name: 'tcp', args: [] },
  { name: 'tcp-reverse', args: ['-R'] },
  { name: 'tcp-P4', args: ['-P', '4'] },
  { name: 'tcp-P4-reverse', args: ['-P', '4', '-R'] },
  { name: 'udp', args: ['-u', '-b', values['udp-rate'] as string, '-l', '1300'], udp: true },
];

interface Sample {
  gbps: number;
  retransmits?: number;
  lossPercent?: number;
  /** CPU seconds of each daemon during the test, by role. */
  cpuSeconds: Record<string, number>;
}

/** CPU seconds (user + system) of one process so far; 0 once it has ended. */
function cpuSecondsOf(pid: number): number {
  const ticks = 100; // USER_HZ on Linux
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return 0; // the process ended
  }
}

function cpuByRole(daemons: DaemonProcess[]): Record<string, number> {
  return Object.fromEntries(daemons.map((d) => [d.role, cpuSecondsOf(d.pid)]));
}

/** Peak resident memory (VmHWM) of each daemon, in MB, by role. */
function peakRssMb(daemons: DaemonProcess[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of daemons) {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'));
      out[d.role] = Number(match?.[1] ?? 0) / 1024;
    } catch {}
  }
  return out;
}

async function measure(lab: Lab, daemons: DaemonProcess[], test: Test): Promise<Sample> {
  const before = cpuByRole(daemons);
  const output = lab.exec('client', 'iperf3', [
    '-c',
    lab.addresses.server as string,
    '-t',
    String(seconds),
    '-J',
    ...test.args,
  ]);
  const after = cpuByRole(daemons);
  const cpu = Object.fromEntries(Object.entries(after).map(([role, s]) => [role, s - (before[role] ?? 0)]));
  const result = JSON.parse(output);
  if (test.udp) {
    // What arrived: the receiver's sum where this iperf3 reports one, else the offered rate less the loss.
    const sum = result.end.sum_received ?? result.end.sum;
    const delivered = result.end.sum_received
      ? sum.bits_per_second
      : sum.bits_per_second * (1 - sum.lost_percent / 100);
    return { gbps: delivered / 1e9, lossPercent: sum.lost_percent, cpuSeconds: cpu };
  }
  return {
    gbps: result.end.sum_received.bits_per_second / 1e9,
    retransmits: result.end.sum_sent.retransmits,
    cpuSeconds: cpu,
  };
}

type ContenderResult = Record<string, Sample[]> & { rssMb: Record<string, number>[] };

export async function runContender(contender: Contender): Promise<ContenderResult> {
  const samples: Record<string, Sample[]> = Object.fromEntries(TESTS.map((t) => [t.name, []]));
  const rss: Record<string, number>[] = [];
  for (let run = 0; run < runs; run++) {
    const lab = createLab() as Lab;
    try {
      const daemons = await contender.setup(lab);
      lab.spawn('server', 'iperf3', ['-s']);
      await waitFor('iperf3 server', () => {
        try {
          return lab.exec('server', 'ss', ['-ltn']).includes(':5201');
        } catch {
          return false;
        }
      });
      lab.exec('client', 'ping', ['-c', '1', '-W', '5', lab.addresses.server as string]);
      for (const test of TESTS) samples[test.name]?.push(await measure(lab, daemons, test));
      rss.push(peakRssMb(daemons));
      await contender.teardown?.();
    } finally {
      lab.destroy();
      // wireguard-go killed with the lab leaves its UAPI socket behind.
      for (const side of ['c', 'g']) rmSync(`/var/run/wireguard/wg${side}${lab.id}.sock`, { force: true });
    }
  }
  return Object.assign(samples, { rssMb: rss });
}

async function main(contenders: Contender[]) {
  ensureSystemTools(['ip', 'ping', 'iperf3', 'wireguard-go', 'wg']);
  const results: Record<string, Awaited<ReturnType<typeof runContender>>> = {};
  for (const c of contenders) {
    // --only a,b: contenders whose name contains any of the parts.
    if (values.only && !values.only.split(',').some((part) => c.name.includes(part))) continue;
    console.error(`measuring ${c.name} (${runs} runs × ${TESTS.length} tests × ${seconds} s)`);
    results[c.name] = await runContender(c);
  }
  const reference = results[wireguardGo.name];
  const gbps = (r: ContenderResult | undefined, test: string) => median((r?.[test] ?? []).map((s) => s.gbps));
  const rows = Object.entries(results).map(([name, r]) => {
    const m = (test: string, key: 'retransmits' | 'lossPercent') =>
      median((r[test] ?? []).map((s) => Number(s[key] ?? 0)));
    const cpu = (role: string) => median((r.tcp ?? []).map((s) => s.cpuSeconds[role] ?? 0));
    const rss = (role: string) => Math.max(0, ...r.rssMb.map((x) => x[role] ?? 0));
    const ratio = (test: string) => (reference ? `${(gbps(r, test) / gbps(reference, test)).toFixed(2)}×` : '-');
    const daemons = Object.keys(r.rssMb[0] ?? {}).length > 0;
    return {
      contender: name,
      'TCP Gbit/s': gbps(r, 'tcp'),
      'vs wg-go': ratio('tcp'),
      'TCP -R Gbit/s': gbps(r, 'tcp-reverse'),
      'vs wg-go (-R)': ratio('tcp-reverse'),
      'TCP -P4': gbps(r, 'tcp-P4'),
      'TCP -P4 -R': gbps(r, 'tcp-P4-reverse'),
      retr: m('tcp', 'retransmits'),
      'retr -R': m('tcp-reverse', 'retransmits'),
      [`UDP ${values['udp-rate']} delivered Gbit/s`]: gbps(r, 'udp'),
      'UDP loss %': m('udp', 'lossPercent'),
      'CPU s client/gw (TCP)': daemons ? `${cpu('client').toFixed(1)} / ${cpu('gateway').toFixed(1)}` : '-',
      'max RSS MB client/gw': daemons ? `${Math.round(rss('client'))} / ${Math.round(rss('gateway'))}` : '-',
    };
  });
  console.log(`\niperf3 through the lab, median of ${runs} runs, -t ${seconds}\n`);
  console.log(markdownTable(rows));
  const checks = targetChecks(results, gbps);
  console.log(`\n${checks.join('\n')}`);
  const path = writeResults('iperf3', { seconds, runs, udpRate: values['udp-rate'], rows, checks, results });
  console.log(`\nwrote ${path}`);
}

/**
 * The targets, read off this run: tunkit's best TCP (forward and reverse) against
 * wireguard-go and against the data path as first measured (node:crypto AEAD, node:dgram, no
 * offload); the largest daemon RSS; and queue affinity (queues=2 retransmits within 10 % of queues=1).
 */
function targetChecks(
  results: Record<string, ContenderResult>,
  gbps: (r: ContenderResult | undefined, test: string) => number,
): string[] {
  const tunkit = Object.entries(results).filter(([name]) => name.startsWith('tunkit'));
  if (tunkit.length === 0) return [];
  const lines: string[] = [];
  const reference = results[wireguardGo.name];
  const first = Object.entries(results).find(([name]) => name.includes('node:crypto AEAD'))?.[1];
  for (const test of ['tcp', 'tcp-reverse']) {
    const [bestName, best] = tunkit.reduce((a, b) => (gbps(b[1], test) > gbps(a[1], test) ? b : a));
    const value = gbps(best, test);
    const vsWg = reference ? value / gbps(reference, test) : Number.NaN;
    const vsFirst = first ? value / gbps(first, test) : Number.NaN;
    lines.push(
      `${test}: best tunkit ${value.toFixed(2)} Gbit/s (${bestName}) = ${vsWg.toFixed(2)}× wireguard-go (target ≥ 3×), ${vsFirst.toFixed(2)}× the first data path (target ≥ 2×)`,
    );
  }
  const maxRss = Math.max(0, ...tunkit.flatMap(([, r]) => r.rssMb.flatMap((x) => Object.values(x))));
  lines.push(`largest tunkit daemon peak RSS: ${maxRss.toFixed(0)} MB (target < 150 MB)`);
  const retr = (queues: number) => {
    const r = results[`tunkit-headless ↔ tunkit-gateway, queues=${queues}`];
    return r ? median((r.tcp ?? []).map((s) => s.retransmits ?? 0)) : undefined;
  };
  const q1 = retr(1);
  const q2 = retr(2);
  if (q1 !== undefined && q2 !== undefined) {
    const ok = q2 <= q1 * 1.1;
    lines.push(
      `queue affinity: TCP retransmits queues=2 ${q2} vs queues=1 ${q1} (${ok ? 'within' : 'NOT within'} 10 %)`,
    );
  }
  return lines;
}

const profileDir = values['cpu-prof'] ? mkdtempSync(join(tmpdir(), 'tunkit-prof-')) : undefined;
await main([
  bareVeth,
  wireguardGo,
  tunkitPair(1, profileDir),
  tunkitPair(2, profileDir),
  tunkitPair(4, profileDir),
  tunkitPair(2, profileDir, { offload: false }),
  tunkitPair(2, profileDir, { offload: false, udpBind: 'dgram' }),
  tunkitPair(2, profileDir, { offload: false, udpBind: 'dgram', aead: 'node-crypto' }),
]);
if (profileDir) printProfiles(profileDir);
