// bench/latency: where a lone packet waits. tunkit-headless ↔ tunkit-gateway in the lab, with
// the data path traced (--trace: per batch, when it was ready, taken, sealed or opened and passed
// on, in CLOCK_MONOTONIC ns, from both daemons); 50 pings at 20/s through the idle tunnel, then 50
// at 12/s under a single-stream iperf3. Each idle ping's request and reply are followed through
// the four hops (client TUN → UDP, gateway UDP → TUN, gateway TUN → UDP, client UDP → TUN) and the
// time between marks is a stage; the table gives each stage's median and 90th percentile over the
// pings, beside ping's own round trip. Under load no single packet can be followed, so each hop's
// batches are summarised instead: how long their first packet waited before a thread took it
// (the standing queue) and the batch sizes. Median of the pings of N runs.
// Run (root): node --import tsx bench/latency/run.ts [--runs 3] [--data-plane native|js]

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// @ts-expect-error: plain ESM modules without types.
import { createLab, waitFor } from '../../scripts/lab/topology.mjs';
// @ts-expect-error: plain ESM modules without types.
import { ensureSystemTools } from '../../scripts/system-deps.mjs';
import type { Lab } from '../iperf3/contenders.js';
import { tunkitPair } from '../iperf3/contenders.js';
import { pingIdle, pingUnderLoad } from '../iperf3/measure.js';
import { calibrate } from '../lib/calibration.js';
import { markdownTable, median, writeResults } from '../lib/report.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'data-plane': { type: 'string', default: 'native' },
  },
});
const runs = Number(values.runs);
const dataPlane = values['data-plane'] === 'js' ? 'js' : 'native';

interface TraceEvent {
  kind: string;
  thread: number;
  count: number;
  readyAt: number;
  start: number;
  crypto: number;
  done: number;
}
type Tagged = TraceEvent & { side: 'client' | 'gateway' };

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
};
const us = (ns: number) => ns / 1000;

/** Drops the daemons counted, by side and reason, over every traced lab of the run. */
const drops: Record<string, number> = {};

function readTrace(path: string, side: 'client' | 'gateway'): Tagged[] {
  const trace = JSON.parse(readFileSync(path, 'utf8')) as { events: TraceEvent[]; drops?: Record<string, number> };
  for (const [reason, n] of Object.entries(trace.drops ?? {}))
    drops[`${side} ${reason}`] = (drops[`${side} ${reason}`] ?? 0) + n;
  return trace.events.map((e) => ({ ...e, side }));
}

/**
 * The stages of each ping found in the trace: a client TUN → UDP batch of one packet, then the
 * gateway's UDP → TUN, TUN → UDP and the client's UDP → TUN, each after the one before, within 20 ms.
 */
function pingStages(events: Tagged[], from: number, to: number): Record<string, number>[] {
  const inWindow = events.filter((e) => e.start >= from && e.start <= to).sort((a, b) => a.start - b.start);
  const found: Record<string, number>[] = [];
  const isHop = (e: Tagged, side: string, direction: 'tun→udp' | 'udp→tun') =>
    e.side === side && e.kind.startsWith(direction);
  for (let i = 0; i < inWindow.length; i++) {
    const request = inWindow[i] as Tagged;
    if (!isHop(request, 'client', 'tun→udp') || request.count !== 1) continue;
    const after = (t: number, side: string, direction: 'tun→udp' | 'udp→tun') =>
      inWindow.find((e) => e.start >= t && e.start - request.start < 20e6 && isHop(e, side, direction));
    const atGateway = after(request.start, 'gateway', 'udp→tun');
    const reply = atGateway && after(atGateway.start, 'gateway', 'tun→udp');
    const back = reply && after(reply.start, 'client', 'udp→tun');
    if (!atGateway || !reply || !back) continue;
    const stages: Record<string, number> = {
      'client TUN: queue thread woke → took the batch': request.readyAt ? request.start - request.readyAt : Number.NaN,
      'client: seal': request.crypto - request.start,
      'client: sendmmsg (kernel to the gateway socket)': request.done - request.crypto,
      'gateway: kernel receive → UDP thread took it': atGateway.readyAt
        ? atGateway.start - atGateway.readyAt
        : Number.NaN,
      'gateway: open': atGateway.crypto - atGateway.start,
      'gateway: TUN write (kernel forwards, server answers)': atGateway.done - atGateway.crypto,
      'gateway: reply in TUN → queue thread woke': reply.readyAt ? reply.readyAt - atGateway.crypto : Number.NaN,
      'gateway TUN: woke → took the reply': reply.readyAt ? reply.start - reply.readyAt : Number.NaN,
      'gateway: seal': reply.crypto - reply.start,
      'gateway: sendmmsg (kernel to the client socket)': reply.done - reply.crypto,
      'client: kernel receive → UDP thread took it': back.readyAt ? back.start - back.readyAt : Number.NaN,
      'client: open': back.crypto - back.start,
      'client: TUN write (to ping)': back.done - back.crypto,
      'first mark → last mark': back.done - (request.readyAt || request.start),
    };
    found.push(stages);
    i = inWindow.indexOf(back);
  }
  return found;
}

/** Per hop, over the batches in [from, to]: how long the first packet waited before it was taken, and batch sizes. */
function hopSummary(events: Tagged[], from: number, to: number): Record<string, string | number>[] {
  const rows: Record<string, string | number>[] = [];
  for (const side of ['client', 'gateway'] as const) {
    for (const direction of ['tun→udp', 'udp→tun']) {
      const hop = events.filter(
        (e) => e.side === side && e.kind.startsWith(direction) && e.start >= from && e.start <= to,
      );
      const waits = hop.filter((e) => e.readyAt > 0).map((e) => us(e.start - e.readyAt));
      rows.push({
        hop: `${side} ${direction}`,
        batches: hop.length,
        'packets/batch median': median(hop.map((e) => e.count)),
        p90: percentile(
          hop.map((e) => e.count),
          0.9,
        ),
        'waited before taken µs, median': median(waits),
        'p90 µs': percentile(waits, 0.9),
        'max µs': waits.length ? Math.max(...waits) : Number.NaN,
        'work per batch µs, median': median(hop.map((e) => us(e.done - e.start))),
      });
    }
  }
  return rows;
}

async function main() {
  ensureSystemTools(['ip', 'ping', 'iperf3']);
  calibrate();
  const traceDir = mkdtempSync(join(tmpdir(), 'tunkit-trace-'));
  const contender = tunkitPair(2, undefined, { dataPlane, traceDir });
  const idleStages: Record<string, number>[] = [];
  const pingRtt: { idle: number[]; loaded: number[] } = { idle: [], loaded: [] };
  const loadedHops: Record<string, string | number>[][] = [];
  const idleHops: Record<string, string | number>[][] = [];
  // Idle and loaded in labs of their own: the trace keeps a daemon's last 16,384 batches, which a
  // few seconds of iperf3 fill.
  let round = 0;
  const traced = async (measure: (lab: Lab) => Promise<number>) => {
    const lab = createLab() as Lab;
    let from = 0;
    let to = 0;
    let avgMs = Number.NaN;
    try {
      await contender.setup(lab);
      round++;
      lab.spawn('server', 'iperf3', ['-s']);
      await waitFor('iperf3 server', () => {
        try {
          return lab.exec('server', 'ss', ['-ltn']).includes(':5201');
        } catch {
          return false;
        }
      });
      lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '5', lab.addresses.server as string]);
      from = Number(process.hrtime.bigint());
      avgMs = await measure(lab);
      to = Number(process.hrtime.bigint());
      await contender.teardown?.();
    } finally {
      lab.destroy();
    }
    const events = [
      ...readTrace(join(traceDir, `headless-${round}.json`), 'client'),
      ...readTrace(join(traceDir, `gateway-${round}.json`), 'gateway'),
    ];
    return { events, from, to, avgMs };
  };
  for (let run = 1; run <= runs; run++) {
    const idle = await traced(async (lab) => (await pingIdle(lab)).avgMs);
    pingRtt.idle.push(idle.avgMs);
    idleStages.push(...pingStages(idle.events, idle.from, idle.to));
    idleHops.push(hopSummary(idle.events, idle.from, idle.to));
    const loaded = await traced(async (lab) => (await pingUnderLoad(lab)).avgMs);
    pingRtt.loaded.push(loaded.avgMs);
    loadedHops.push(hopSummary(loaded.events, loaded.from, loaded.to));
    console.error(`run ${run}/${runs}: ${idle.events.length} + ${loaded.events.length} batches traced`);
  }
  rmSync(traceDir, { recursive: true, force: true });
  const names = Object.keys(idleStages[0] ?? {});
  const stageRows = names.map((name) => {
    const values = idleStages.map((s) => us(s[name] as number)).filter((v) => Number.isFinite(v));
    return { stage: name, 'median µs': median(values), 'p90 µs': percentile(values, 0.9) };
  });
  console.log(
    `\nA lone packet's path (${dataPlane} data plane): ${idleStages.length} idle pings followed through both daemons, ${runs} runs`,
  );
  console.log(`ping's own round trip, idle: median of run averages ${median(pingRtt.idle).toFixed(3)} ms\n`);
  console.log(markdownTable(stageRows));
  console.log('\nPer hop, idle (50 pings at 20/s):\n');
  console.log(markdownTable(idleHops.at(-1) ?? []));
  console.log(
    `\nPer hop, under a single-stream iperf3 (ping under load: median of run averages ${median(pingRtt.loaded).toFixed(2)} ms):\n`,
  );
  console.log(markdownTable(loadedHops.at(-1) ?? []));
  console.log(`\ndrops counted by the daemons (all runs): ${JSON.stringify(drops)}`);
  const path = writeResults('latency', { runs, dataPlane, stageRows, pingRtt, idleHops, loadedHops, drops });
  console.log(`wrote ${path}`);
}

await main();
