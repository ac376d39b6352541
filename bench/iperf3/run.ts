// bench/iperf3: iperf3 through each contender's path in the three-namespace lab, side by side in
// one invocation: TCP forward and reverse, TCP with 4 streams, UDP at a fixed offered rate; daemon
// CPU seconds (from /proc) and peak RSS. Median of N runs; JSON to bench/results/ and a markdown
// table with a ratio column against wireguard-go.
// Run (root): node --import tsx bench/iperf3/run.ts [--time 10] [--runs 3] [--udp-rate 1G] [--only tunkit]
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
import { bareVeth, type Contender, type Lab, tunkitPair, wireguardGo } from './contenders.js';

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
  { name: 'udp', args: ['-u', '-b', values['udp-rate'] as string, '-l', '1300'], udp: true },
];

interface Sample {
  gbps: number;
  retransmits?: number;
  lossPercent?: number;
  cpuSeconds: number;
}

function cpuSeconds(pids: number[]): number {
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      total += (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      // the process ended
    }
  }
  return total;
}

function peakRssMb(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(match?.[1] ?? 0) / 1024;
    } catch {}
  }
  return total;
}

async function measure(lab: Lab, pids: number[], test: Test): Promise<Sample> {
  const before = cpuSeconds(pids);
  const output = lab.exec('client', 'iperf3', [
    '-c',
    lab.addresses.server as string,
    '-t',
    String(seconds),
    '-J',
    ...test.args,
  ]);
  const cpu = cpuSeconds(pids) - before;
  const result = JSON.parse(output);
  if (test.udp) {
    const sum = result.end.sum;
    return { gbps: sum.bits_per_second / 1e9, lossPercent: sum.lost_percent, cpuSeconds: cpu };
  }
  return {
    gbps: result.end.sum_received.bits_per_second / 1e9,
    retransmits: result.end.sum_sent.retransmits,
    cpuSeconds: cpu,
  };
}

export async function runContender(contender: Contender): Promise<Record<string, Sample[]> & { rssMb: number[] }> {
  const samples: Record<string, Sample[]> = Object.fromEntries(TESTS.map((t) => [t.name, []]));
  const rss: number[] = [];
  for (let run = 0; run < runs; run++) {
    const lab = createLab() as Lab;
    try {
      const pids = await contender.setup(lab);
      lab.spawn('server', 'iperf3', ['-s']);
      await waitFor('iperf3 server', () => {
        try {
          return lab.exec('server', 'ss', ['-ltn']).includes(':5201');
        } catch {
          return false;
        }
      });
      lab.exec('client', 'ping', ['-c', '1', '-W', '5', lab.addresses.server as string]);
      for (const test of TESTS) samples[test.name]?.push(await measure(lab, pids, test));
      rss.push(peakRssMb(pids));
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
    if (values.only && !c.name.includes(values.only)) continue;
    console.error(`measuring ${c.name} (${runs} runs × ${TESTS.length} tests × ${seconds} s)`);
    results[c.name] = await runContender(c);
  }
  const reference = results[wireguardGo.name];
  const rows = Object.entries(results).map(([name, r]) => {
    const m = (test: string, key: keyof Sample) => median((r[test] ?? []).map((s) => Number(s[key] ?? 0)));
    const ratio = (test: string) =>
      reference ? `${(m(test, 'gbps') / median((reference[test] ?? []).map((s) => s.gbps))).toFixed(2)}×` : '-';
    return {
      contender: name,
      'TCP Gbit/s': m('tcp', 'gbps'),
      'vs wg-go': ratio('tcp'),
      'TCP -R Gbit/s': m('tcp-reverse', 'gbps'),
      'vs wg-go (-R)': ratio('tcp-reverse'),
      'TCP -P4 Gbit/s': m('tcp-P4', 'gbps'),
      retransmits: m('tcp', 'retransmits'),
      [`UDP ${values['udp-rate']} loss %`]: m('udp', 'lossPercent'),
      'CPU s (TCP)': m('tcp', 'cpuSeconds'),
      'peak RSS MB': median(r.rssMb),
    };
  });
  console.log(`\niperf3 through the lab, median of ${runs} runs, -t ${seconds}\n`);
  console.log(markdownTable(rows));
  const path = writeResults('iperf3', { seconds, runs, udpRate: values['udp-rate'], rows, results });
  console.log(`\nwrote ${path}`);
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
]);
if (profileDir) printProfiles(profileDir);
