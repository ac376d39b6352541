// bench/tun-linux: packets/s and Gbit/s a JS reflector moves through a TUN device, driven by a UDP
// flood from the kernel side (8 flows of 1400-byte packets, sendmmsg) inside a network namespace
// of its own, counted by a recvmmsg sink. tunkit with queues 1/2/4 and batch 1/32/100, side by side
// with a naive fs.read reader and appium-ios-tuntap's read()/write(), in one run. Median of N runs.
// Run (root): node --import tsx bench/tun-linux/run.ts [--seconds 3] [--runs 3] [--gso 32]

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createNamespace } from '@tunkit/tun-core/testing';
import { enterNetworkNamespace } from '@tunkit/tun-linux';
import { markdownTable, median, writeResults } from '../lib/report.js';
import { appiumReflector, fsReflector, type Reflector, tunkitReflector } from './reflectors.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    // Datagrams per UDP GSO send of the flooder (1: one sendmmsg entry per datagram). The same
    // datagrams reach every contender; GSO only makes the sending side cheaper, so the offered
    // rate stops capping what a fast device can show on this 2-core machine.
    gso: { type: 'string', default: '1' },
  },
});
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const PAYLOAD = 1372; // + 28 bytes of IPv4/UDP headers = 1400-byte packets
const FLOWS = 8;
const GSO = Number(values.gso);

const here = dirname(fileURLToPath(import.meta.url));
const tool = join(mkdtempSync(join(tmpdir(), 'tunkit-bench-')), 'flood');
execFileSync('cc', ['-O2', '-o', tool, join(here, 'flood.c')]);

const ns = createNamespace('bench');
ns.exec('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
enterNetworkNamespace(ns.name);

function output(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (d) => {
      text += d;
    });
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${tool} exited with ${code}`))));
  });
}

async function measure(reflector: Reflector): Promise<{ pps: number; gbps: number; offered: number }> {
  const device = await reflector.open();
  try {
    const sink = spawn(tool, ['sink', '10.20.0.1', '7001', String(SECONDS + 1)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const sinkDone = output(sink);
    await new Promise<void>((resolve) => sink.stdout.once('data', () => resolve()));
    let stopFlood!: () => void;
    const stopped = new Promise<void>((r) => {
      stopFlood = r;
    });
    const running = device.run(stopped);
    const flood = spawn(
      tool,
      ['flood', '10.20.0.1', '10.20.0.2', '7001', String(FLOWS), String(SECONDS), String(PAYLOAD), String(GSO)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const offered = Number(await output(flood));
    await new Promise((r) => setTimeout(r, 200));
    stopFlood();
    await running;
    const [packets = 0, bytes = 0] = ((await sinkDone).trim().split('\n').at(-1) ?? '').split(' ').map(Number);
    return { pps: packets / SECONDS, gbps: ((bytes + packets * 28) * 8) / SECONDS / 1e9, offered: offered / SECONDS };
  } finally {
    await device.close();
  }
}

const contenders: Reflector[] = [fsReflector, appiumReflector];
for (const queues of [1, 2, 4]) for (const batch of [1, 32, 100]) contenders.push(tunkitReflector(queues, batch));
for (const queues of [1, 2]) contenders.push(tunkitReflector(queues, 100, false)); // offload off, for the ratio

const samples = new Map<string, { pps: number; gbps: number; offered: number }[]>();
try {
  for (let run = 0; run < RUNS; run++) {
    for (const c of contenders) {
      if (values.only && !c.name.includes(values.only)) continue;
      const s = await measure(c);
      samples.set(c.name, [...(samples.get(c.name) ?? []), s]);
      console.error(`run ${run + 1}/${RUNS} ${c.name}: ${Math.round(s.pps)} packets/s`);
    }
  }
} finally {
  ns.destroy();
}

const ppsOf = (name: string) => median((samples.get(name) ?? []).map((s) => s.pps));
const appium = ppsOf(appiumReflector.name);
const q1 = (batch: number, offload: boolean) => ppsOf(tunkitReflector(1, batch, offload).name);
const rows = [...samples.keys()].map((name) => {
  const list = samples.get(name) ?? [];
  const queues = /queues=(\d)/.exec(name)?.[1];
  const batch = Number(/batch=(\d+)/.exec(name)?.[1]);
  return {
    contender: name,
    'packets/s (median)': ppsOf(name),
    'Gbit/s': median(list.map((s) => s.gbps)),
    'offered packets/s': median(list.map((s) => s.offered)),
    'vs appium-ios-tuntap': Number.isFinite(appium) ? `${(ppsOf(name) / appium).toFixed(2)}×` : '-',
    'vs queues=1 (same batch)': queues
      ? `${(ppsOf(name) / q1(batch, !name.includes('offload=off'))).toFixed(2)}×`
      : '-',
  };
});
const floodKind = GSO > 1 ? `UDP GSO sends of ${GSO} datagrams` : 'sendmmsg, one datagram per entry';
console.log(
  `\nTUN reflector, 1400-byte packets, ${FLOWS} flows (flood: ${floodKind}), ${SECONDS} s per run, median of ${RUNS} runs\n`,
);
console.log(markdownTable(rows));
console.log(
  `\nwrote ${writeResults('tun-linux', { seconds: SECONDS, runs: RUNS, payload: PAYLOAD, flows: FLOWS, gso: GSO, rows, samples: Object.fromEntries(samples) })}`,
);
