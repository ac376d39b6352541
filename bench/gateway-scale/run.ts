// bench/gateway-scale: one tunkit-gateway fed by N tunkit-headless clients at once, each running
// iperf3 -P 4 through it to a server behind it, forward (clients → server: the gateway opens on its
// UDP receive thread) and reverse (-R, server → clients: the gateway seals on its TUN queue
// threads). Reported: the gateway's throughput and its CPU by thread (the JS thread, the TUN queue
// threads, the UDP receive threads, the rest), with the native data plane on 1 queue thread and 1
// UDP receive thread, and on 2 of each (--tun-queues 2 --udp-threads 2: an SO_REUSEPORT group that
// spreads the clients over the receive threads), and with the JS data plane (the JS thread's share
// before the data plane moved off it). Also the gateway's busiest thread, and the ceiling it sets
// when every thread has a core of its own. The kernel spreads clients over the receive threads by
// a hash of their addresses, and the queue threads take flows by a hash too: with few clients
// several can land on one thread (with 2 clients, half the runs do), hence 4 by default.
// On a 2-core machine the clients and iperf3 share the cores with the gateway, so the absolute
// figures say little: the point is how the gateway's work splits over its threads, which is what
// more cores would run in parallel (see the README). Median of N runs. A failed iperf3 is counted
// in 'failed runs' and printed, and its run left out of the medians.
// Run (root): node --import tsx bench/gateway-scale/run.ts [--clients 4] [--time 8] [--runs 3]

import { parseArgs } from 'node:util';
// @ts-expect-error: plain ESM modules without types.
import { waitFor } from '../../scripts/lab/topology.mjs';
// @ts-expect-error: plain ESM modules without types.
import { keyPair, startDaemon, writeConfigs } from '../../scripts/lab/tunnel.mjs';
// @ts-expect-error: plain ESM modules without types.
import { ensureSystemTools } from '../../scripts/system-deps.mjs';
import { iperfResult } from '../iperf3/measure.js';
import { calibrate } from '../lib/calibration.js';
import { markdownTable, median, writeResults } from '../lib/report.js';
import { busiestThread, cpuByGroup, threadCpu } from '../lib/thread-cpu.js';
import { createScaleLab, type ScaleLab } from './lab.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '4' },
    time: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
  },
});
const clients = Number(values.clients);
const seconds = Number(values.time);
const runs = Number(values.runs);

interface Config {
  name: string;
  /** TUN queue threads: they seal (server → clients). */
  queues: number;
  /** UDP receive threads: they open (clients → server). */
  udpThreads: number;
  dataPlane: 'native' | 'js';
}
const CONFIGS: Config[] = [
  { name: 'native data plane, 1 queue thread, 1 UDP thread', queues: 1, udpThreads: 1, dataPlane: 'native' },
  { name: 'native data plane, 2 queue threads, 2 UDP threads', queues: 2, udpThreads: 2, dataPlane: 'native' },
  { name: 'JS data plane, 2 queue threads', queues: 2, udpThreads: 1, dataPlane: 'js' },
];

interface Sample {
  gbps: number;
  gigabytes: number;
  /** The gateway's CPU seconds during the test, by thread group. */
  gateway: Record<string, number>;
  /** The gateway's busiest thread during the test: the one a faster machine cannot split further. */
  busiest: { name: string; seconds: number };
  /** All client daemons' CPU seconds together. */
  clients: number;
  /** Why a client's iperf3 failed: the sample then is counted, printed, and left out of the medians. */
  error?: string;
}

function processCpu(pid: number): number {
  let total = 0;
  for (const { seconds: s } of threadCpu(pid).values()) total += s;
  return total;
}

/** Starts the gateway and the clients in `lab`; returns their pids. */
async function startTunnel(lab: ScaleLab, config: Config): Promise<{ gateway: number; clients: number[] }> {
  const gatewayKeys = keyPair();
  const clientKeys = Array.from({ length: clients }, () => keyPair());
  const gatewayText = [
    '[Interface]',
    `PrivateKey = ${gatewayKeys.privateKey}`,
    'ListenPort = 51820',
    'Address = 10.99.0.1/24',
    ...clientKeys.flatMap((k, i) => ['', '[Peer]', `PublicKey = ${k.publicKey}`, `AllowedIPs = 10.99.0.${10 + i}/32`]),
    '',
  ].join('\n');
  const clientText = (i: number) =>
    [
      '[Interface]',
      `PrivateKey = ${clientKeys[i]?.privateKey}`,
      `Address = 10.99.0.${10 + i}/24`,
      '',
      '[Peer]',
      `PublicKey = ${gatewayKeys.publicKey}`,
      `Endpoint = ${lab.gatewayAddressFor(i)}:51820`,
      'AllowedIPs = 10.99.0.0/24, 10.88.2.0/24',
      'PersistentKeepalive = 5',
      '',
    ].join('\n');
  const names = { gateway: `tkg${lab.id}`.slice(0, 15), client: (i: number) => `tc${i}${lab.id}`.slice(0, 15) };
  const files = writeConfigs(
    {
      [names.gateway]: gatewayText,
      ...Object.fromEntries(clientKeys.map((_, i) => [names.client(i), clientText(i)])),
    },
    lab,
  );
  const args = ['--log-level', 'warn', '--data-plane', config.dataPlane];
  const gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway], [
    ...args,
    '--tun-queues',
    String(config.queues),
    '--udp-threads',
    String(config.udpThreads),
  ]);
  const clientDaemons = clientKeys.map((_, i) =>
    startDaemon(lab, `client${i}`, 'headless', files.paths[names.client(i)], [...args, '--tun-queues', '2']),
  );
  for (let i = 0; i < clients; i++) {
    await waitFor(`client ${i}'s handshake`, () => {
      try {
        lab.exec(`client${i}`, 'ping', ['-c', '1', '-W', '1', '10.99.0.1']);
        return true;
      } catch {
        return false;
      }
    });
  }
  files.remove();
  lab.stops.push(() => gateway.stop('SIGTERM'), ...clientDaemons.map((d) => () => d.stop('SIGTERM')));
  return { gateway: gateway.child.pid as number, clients: clientDaemons.map((d) => d.child.pid as number) };
}

/** N iperf3 -P 4 at once, one per client; what arrived in all, and the gateway's CPU by thread meanwhile. */
async function measure(lab: ScaleLab, pids: { gateway: number; clients: number[] }, reverse: boolean): Promise<Sample> {
  const gatewayBefore = threadCpu(pids.gateway);
  const clientsBefore = pids.clients.map(processCpu);
  const outputs = await Promise.all(
    Array.from({ length: clients }, (_, i) =>
      lab.run(`client${i}`, 'iperf3', [
        '-c',
        '10.88.2.2',
        '-p',
        String(5201 + i),
        '-P',
        '4',
        '-t',
        String(seconds),
        '-J',
        ...(reverse ? ['-R'] : []),
      ]),
    ),
  );
  const gatewayAfter = threadCpu(pids.gateway);
  const gateway = cpuByGroup(pids.gateway, gatewayBefore, gatewayAfter);
  const busiest = busiestThread(gatewayBefore, gatewayAfter);
  const clientCpu = pids.clients.reduce((sum, pid, i) => sum + processCpu(pid) - (clientsBefore[i] ?? 0), 0);
  let gbps = 0;
  let bytes = 0;
  const errors: string[] = [];
  outputs.forEach((ended, i) => {
    const result = iperfResult(ended, false);
    if (result.error !== undefined) errors.push(`client ${i}: ${result.error}`);
    gbps += result.gbps;
    bytes += result.bytes;
  });
  const sample: Sample = { gbps, gigabytes: bytes / 1e9, gateway, busiest, clients: clientCpu };
  return errors.length === 0 ? sample : { ...sample, error: errors.join('; ') };
}

const GROUPS = ['JS thread', 'TUN queue threads (seal)', 'UDP receive threads (open)', 'other'];

async function main() {
  ensureSystemTools(['ip', 'ping', 'iperf3']);
  calibrate();
  const samples: Record<string, Sample[]> = {};
  for (let run = 1; run <= runs; run++) {
    for (const config of CONFIGS) {
      const lab = createScaleLab(clients);
      try {
        for (let i = 0; i < clients; i++) lab.spawn('server', 'iperf3', ['-s', '-p', String(5201 + i)]);
        const pids = await startTunnel(lab, config);
        for (const reverse of [false, true]) {
          const key = `${config.name}|${reverse ? 'reverse' : 'forward'}`;
          const sample = await measure(lab, pids, reverse);
          samples[key] = [...(samples[key] ?? []), sample];
        }
        await lab.stop();
      } finally {
        lab.destroy();
      }
      console.error(`run ${run}/${runs}: ${config.name} done`);
    }
  }
  const failed: string[] = [];
  const rows = Object.entries(samples).map(([key, all]) => {
    const [name, direction] = key.split('|');
    all.forEach((s, i) => {
      if (s.error !== undefined) failed.push(`FAILED ${name}, ${direction} run ${i + 1}: ${s.error}`);
    });
    const list = all.filter((s) => s.error === undefined);
    const total = (s: Sample) => Object.values(s.gateway).reduce((a, b) => a + b, 0);
    const share = (group: string) => median(list.map((s) => (100 * (s.gateway[group] ?? 0)) / total(s)));
    const perGb = (group: string) => median(list.map((s) => (s.gateway[group] ?? 0) / s.gigabytes));
    const busiest = median(list.map((s) => s.busiest.seconds / s.gigabytes));
    return {
      gateway: name as string,
      direction: direction === 'forward' ? 'clients → server (gateway opens)' : 'server → clients (gateway seals)',
      'Gbit/s': median(list.map((s) => s.gbps)),
      'gateway CPU s/GB': median(list.map((s) => total(s) / s.gigabytes)),
      ...Object.fromEntries(GROUPS.map((g) => [`${g} %`, share(g)])),
      ...Object.fromEntries(GROUPS.slice(0, 3).map((g) => [`${g.split(' (')[0]} s/GB`, perGb(g)])),
      'busiest thread, s/GB': `${list[0]?.busiest.name ?? '-'}, ${busiest.toFixed(2)}`,
      // Each thread on a core of its own: the busiest one caps the gateway at 8 Gbit per its s/GB.
      'ceiling, a core per thread, Gbit/s': 8 / busiest,
      'clients CPU s/GB': median(list.map((s) => s.clients / s.gigabytes)),
      'failed runs': all.length - list.length,
    };
  });
  console.log(
    `\ngateway-scale: 1 tunkit-gateway, ${clients} tunkit-headless clients each running iperf3 -P 4 through it, -t ${seconds}, median of ${runs} runs\n`,
  );
  console.log(markdownTable(rows));
  if (failed.length > 0) console.log(`\n${failed.join('\n')}`);
  console.log(
    "\nThe gateway's CPU by thread: the JS thread (handshakes, timers, control plane, and with the JS data plane all sealing and opening), the TUN queue threads (read, seal, send), the UDP receive threads (read, open, write), the rest (libuv, V8). The ceiling: with each of its threads on a core of its own (and the clients elsewhere), the gateway's busiest thread caps it at 8 / (that thread's s/GB) Gbit/s; it is what the split predicts for a machine with more cores, not a measurement.",
  );
  const path = writeResults('gateway-scale', { clients, seconds, runs, rows, samples });
  console.log(`wrote ${path}`);
}

await main();
