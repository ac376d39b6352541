// bench/iperf3: iperf3 through each contender's path in the three-namespace lab, side by side in
// one invocation: TCP forward and reverse, with 1 and 4 streams, UDP at a fixed offered rate; each
// daemon's CPU seconds (from /proc) per GB carried, both ends, and peak RSS; ping round trips
// through the tunnel, idle (50 at 20/s) and under a single-stream iperf3 (50 at 12/s). Median of N
// runs; JSON to bench/results/, two markdown tables (throughput; cost and latency) with ratios
// against upstream wireguard-go (with offloads) and Debian's, the calibration line, and the
// targets of issue 15 checked against that run (targets.ts).
// Run (root): node --import tsx bench/iperf3/run.ts [--time 10] [--runs 3] [--udp-rate 1G] [--only tunkit,wireguard-go]
// [--targets]: only the contenders the targets are checked on (upstream and Debian's wireguard-go,
// tunkit queues=2, queues=1, queues=2 with offload off): about half the time of the full run.
// [--cpu-prof]: the tunkit daemons run under node --cpu-prof; their top functions are printed.
// Upstream wireguard-go is built by ../shared/anchors/wireguard-go/build.sh (or given as
// WIREGUARD_GO_UPSTREAM=path); where neither works it is skipped, and the reason printed.

import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// @ts-expect-error: plain ESM modules without types.
import { createLab, waitFor } from '../../scripts/lab/topology.mjs';
// @ts-expect-error: plain ESM modules without types.
import { ensureSystemTools } from '../../scripts/system-deps.mjs';
import { calibrate } from '../lib/calibration.js';
import { printProfiles } from '../lib/cpu-profile.js';
import { markdownTable, median, writeResults } from '../lib/report.js';
import { bareVeth, type Contender, type Lab, tunkitPair, upstreamWireguardGoPair, wireguardGo } from './contenders.js';
import { measureIperf, peakRssMb, pingIdle, pingUnderLoad, type Test } from './measure.js';
import {
  type ContenderResult,
  cpuPerGb,
  failures,
  gbps,
  jsThreadShare,
  pingMs,
  retransmits,
  succeeded,
  TUNKIT_DEFAULT,
  TUNKIT_OFFLOAD_OFF,
  TUNKIT_QUEUES_1,
  targetChecks,
} from './targets.js';

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    'udp-rate': { type: 'string', default: '1G' },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    targets: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.time);
const runs = Number(values.runs);

const TESTS: Test[] = [
  { name: 'tcp', args: [] },
  { name: 'tcp-reverse', args: ['-R'] },
  { name: 'tcp-P4', args: ['-P', '4'] },
  { name: 'tcp-P4-reverse', args: ['-P', '4', '-R'] },
  { name: 'udp', args: ['-u', '-b', values['udp-rate'] as string, '-l', '1300'], udp: true },
];

export async function runContender(contender: Contender): Promise<ContenderResult> {
  const result: ContenderResult = {
    samples: Object.fromEntries(TESTS.map((t) => [t.name, []])),
    pingIdle: [],
    pingLoaded: [],
    rssMb: [],
  };
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
      // Latency first, on a path nothing has loaded yet.
      result.pingIdle.push(await pingIdle(lab));
      result.pingLoaded.push(await pingUnderLoad(lab));
      for (const test of TESTS) result.samples[test.name]?.push(await measureIperf(lab, daemons, test, seconds));
      result.rssMb.push(peakRssMb(daemons));
      await contender.teardown?.();
    } finally {
      lab.destroy();
    }
  }
  return result;
}

const ms = (r: ContenderResult, loaded: boolean) =>
  `${pingMs(r, loaded, 'avgMs').toFixed(2)} / ${pingMs(r, loaded, 'maxMs').toFixed(2)}`;

function tables(results: Record<string, ContenderResult>, upstreamName: string | undefined): string {
  const upstream = upstreamName ? results[upstreamName] : undefined;
  const debian = results[wireguardGo.name];
  const ratio = (r: ContenderResult, reference: ContenderResult | undefined) =>
    reference
      ? `${(gbps(r, 'tcp') / gbps(reference, 'tcp')).toFixed(2)}× / ${(gbps(r, 'tcp-reverse') / gbps(reference, 'tcp-reverse')).toFixed(2)}×`
      : '-';
  const throughput = Object.entries(results).map(([name, r]) => ({
    contender: name,
    'TCP Gbit/s': gbps(r, 'tcp'),
    'TCP -R Gbit/s': gbps(r, 'tcp-reverse'),
    'vs upstream (fwd / -R)': ratio(r, upstream),
    'vs Debian (fwd / -R)': ratio(r, debian),
    'TCP -P4': gbps(r, 'tcp-P4'),
    'TCP -P4 -R': gbps(r, 'tcp-P4-reverse'),
    retr: retransmits(r, 'tcp'),
    'retr -R': retransmits(r, 'tcp-reverse'),
    [`UDP ${values['udp-rate']} delivered Gbit/s`]: gbps(r, 'udp'),
    'UDP loss %': median(succeeded(r, 'udp').map((s) => s.lossPercent ?? 0)),
    'failed runs': failures(r).length,
  }));
  const cost = Object.entries(results).map(([name, r]) => {
    const daemons = Object.keys(r.rssMb[0] ?? {}).length > 0;
    const perGb = (test: string) =>
      daemons
        ? `${cpuPerGb(r, test).toFixed(2)} (${cpuPerGb(r, test, 'client').toFixed(2)} + ${cpuPerGb(r, test, 'gateway').toFixed(2)})`
        : '-';
    const rss = (role: string) => Math.max(0, ...r.rssMb.map((x) => x[role] ?? 0));
    return {
      contender: name,
      'CPU s/GB TCP (client + gw)': perGb('tcp'),
      'CPU s/GB TCP -R (client + gw)': perGb('tcp-reverse'),
      'JS thread % of daemon CPU (TCP / -R)': daemons
        ? `${jsThreadShare(r, 'tcp').toFixed(0)} / ${jsThreadShare(r, 'tcp-reverse').toFixed(0)}`
        : '-',
      'ping idle avg / max ms': ms(r, false),
      'ping under load avg / max ms': ms(r, true),
      'load Gbit/s': median(r.pingLoaded.map((p) => p.loadGbps ?? 0)),
      'pings lost idle / load': `${median(r.pingIdle.map((p) => p.lost))} / ${median(r.pingLoaded.map((p) => p.lost))}`,
      'max RSS MB client / gw': daemons ? `${Math.round(rss('client'))} / ${Math.round(rss('gateway'))}` : '-',
    };
  });
  return [
    `iperf3 through the lab, median of ${runs} runs, -t ${seconds}`,
    markdownTable(throughput),
    'Cost and latency: daemon CPU seconds per GB carried (both ends, then each); ping client → server through the path, 50 at 20/s idle, 50 at 12/s under a single-stream iperf3 (its throughput beside)',
    markdownTable(cost),
  ].join('\n\n');
}

async function main() {
  ensureSystemTools(['ip', 'ping', 'iperf3', 'wireguard-go', 'wg']);
  // Before any contender runs, so that no daemon of ours loads the machine while it is measured.
  calibrate();
  const profileDir = values['cpu-prof'] ? mkdtempSync(join(tmpdir(), 'tunkit-prof-')) : undefined;
  const forTargets = [TUNKIT_DEFAULT, TUNKIT_QUEUES_1, TUNKIT_OFFLOAD_OFF, wireguardGo.name];
  const wanted = (name: string) =>
    values.targets
      ? forTargets.includes(name) || name.startsWith('upstream wireguard-go')
      : !values.only || values.only.split(',').some((part) => name.includes(part));
  const upstream = upstreamWireguardGoPair();
  const skipped: string[] = [];
  if ('skipped' in upstream) {
    skipped.push(`upstream wireguard-go skipped: ${upstream.skipped}`);
    console.error(skipped[0]);
  }
  const contenders: Contender[] = [
    bareVeth,
    ...('skipped' in upstream ? [] : [upstream]),
    wireguardGo,
    tunkitPair(1, profileDir),
    tunkitPair(2, profileDir),
    tunkitPair(4, profileDir),
    tunkitPair(2, profileDir, { dataPlane: 'js' }),
    tunkitPair(2, profileDir, { offload: false }),
    tunkitPair(2, profileDir, { offload: false, udpBind: 'dgram' }),
    tunkitPair(2, profileDir, { offload: false, udpBind: 'dgram', aead: 'node-crypto' }),
  ];
  const results: Record<string, ContenderResult> = {};
  const loadBefore = loadavg()[0] as number;
  for (const c of contenders) {
    if (!wanted(c.name)) continue;
    console.error(`measuring ${c.name} (${runs} runs × (2 ping series + ${TESTS.length} tests × ${seconds} s))`);
    results[c.name] = await runContender(c);
  }
  const upstreamName = 'skipped' in upstream ? undefined : upstream.name;
  const notes = [...skipped];
  if (!('skipped' in upstream) && results[upstream.name]) {
    notes.push(
      `upstream wireguard-go offloads: ${upstream.offloads ? 'on (IFF_VNET_HDR in tun_flags at both ends)' : 'OFF (no IFF_VNET_HDR in tun_flags): its figures are not upstream at its best'}`,
    );
  }
  for (const [name, r] of Object.entries(results)) {
    for (const failure of failures(r)) notes.push(`FAILED ${name}, ${failure}`);
  }
  const loadAfter = loadavg()[0] as number;
  notes.push(`load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after the runs`);
  const checks =
    upstreamName || results[wireguardGo.name] ? targetChecks(results, upstreamName ?? '', wireguardGo.name) : [];
  console.log(`\n${tables(results, upstreamName)}\n\n${[...notes, ...checks].join('\n')}`);
  const path = writeResults('iperf3', {
    seconds,
    runs,
    udpRate: values['udp-rate'],
    notes,
    checks,
    upstreamOffloads: 'skipped' in upstream ? undefined : upstream.offloads,
    results,
  });
  console.log(`wrote ${path}`);
  if (profileDir) printProfiles(profileDir);
}

await main();
