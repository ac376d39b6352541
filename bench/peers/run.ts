// bench/peers: a gateway's cost per peer, at 1,000 and 5,000 peers each with a /32 and a /128
// (issue 12): `wg show <name> dump` (the stock tool through the UAPI socket), a /metrics scrape
// and the watcher's tick when every peer completes a handshake at once, each with the longest the
// event loop (so the data path) was held meanwhile; and memory per peer (JS heap and RSS growth).
// Beside it, as root, wireguard-go from Debian with the same peers, in a namespace of its own:
// its `wg show dump` and its RSS growth per peer. Targets: each under 100 ms. Medians of N runs.
// Run: node --import tsx bench/peers/run.ts [--peers 1000,5000] [--runs 5]

import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MetricsServer, renderMetrics, watchHandshakes } from '@tunkit/daemon';
import { MemoryTun } from '@tunkit/tun-core';
import { DEFAULT_UAPI_DIR, Device, MemoryNetwork, type Peer, UapiServer } from '@tunkit/wireguard';
import { uapiRequest } from '@tunkit/wireguard/testing';
import { markdownTable, median, writeResults } from '../lib/report.js';

const { values } = parseArgs({
  options: { peers: { type: 'string', default: '1000,5000' }, runs: { type: 'string', default: '5' } },
});
const COUNTS = (values.peers as string).split(',').map(Number);
const RUNS = Number(values.runs);
const TARGET_MS = 100;
const run = promisify(execFile);
const root = process.getuid?.() === 0;
const haveWg = spawnSync('sh', ['-c', 'command -v wg && command -v wireguard-go'], { stdio: 'ignore' }).status === 0;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs `work`; resolves its wall time and the longest gap between runs of a 1 ms timer meanwhile. */
async function timed(work: () => Promise<unknown>): Promise<{ ms: number; blockedMs: number }> {
  let last = performance.now();
  let blockedMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    blockedMs = Math.max(blockedMs, now - last);
    last = now;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  last = performance.now();
  blockedMs = 0;
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 2));
  clearInterval(ticker);
  return { ms, blockedMs };
}

const prefixes = (i: number) => [`10.${(i >> 8) & 255}.${i & 255}.1/32`, `fd00::${i.toString(16)}/128`];
const rssBytes = () => process.memoryUsage().rss;

type Row = {
  implementation: string;
  peers: number;
  'wg show dump ms': number | string;
  'UAPI get ms': number | string;
  'metrics scrape ms': number | string;
  'watcher tick ms': number | string;
  'event loop held, max ms': number | string;
  'heap B/peer': number | string;
  'RSS B/peer': number | string;
};

async function tunkit(count: number): Promise<Row> {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = rssBytes();
  const [tun] = MemoryTun.pair({ mtu: 1420 });
  const device = new Device({
    tun,
    bind: new MemoryNetwork().bind('10.0.0.1', 51820),
    privateKey: new Uint8Array(randomBytes(32)),
  });
  const peers: Peer[] = [];
  for (let i = 0; i < count; i++) {
    peers.push(
      device.addPeer(
        { publicKey: new Uint8Array(randomBytes(32)), endpoint: { address: '192.0.2.1', port: 1024 + (i % 60000) } },
        prefixes(i),
      ),
    );
  }
  gc();
  const heapPerPeer = (process.memoryUsage().heapUsed - heapBefore) / count;
  const rssPerPeer = (rssBytes() - rssBefore) / count;
  device.start();
  const name = `tkp${process.pid % 100000}`;
  const dir = root ? DEFAULT_UAPI_DIR : mkdtempSync(join(tmpdir(), 'tunkit-bench-'));
  const uapi = await UapiServer.listen({ name, dir, handler: device.uapiHandler });
  const metrics = await MetricsServer.listen('127.0.0.1', 0, (lag) => renderMetrics(device, tun, lag));
  const wgShow: number[] = [];
  const get: number[] = [];
  const scrape: number[] = [];
  const tick: number[] = [];
  let blocked = 0;
  try {
    for (let r = 0; r < RUNS; r++) {
      if (root && haveWg) {
        const t = await timed(() => run('wg', ['show', name, 'dump'], { maxBuffer: 64 << 20 }));
        wgShow.push(t.ms);
        blocked = Math.max(blocked, t.blockedMs);
      }
      const g = await timed(() => uapiRequest(uapi.path, 'get=1\n\n'));
      get.push(g.ms);
      const s = await timed(async () => (await fetch(`http://${metrics.address}/metrics`)).text());
      scrape.push(s.ms);
      const lines: unknown[] = [];
      const log = { info: () => lines.push(1), warn: () => {} };
      const timer = watchHandshakes(device, tun, log as never);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const w = await timed(async () => {
        const now = Date.now() + r;
        for (const peer of peers) peer.lastHandshakeWallMs = now;
        while (lines.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      });
      clearInterval(timer);
      // The tick itself, not the wait for it: the longest block while waiting is the tick.
      tick.push(w.blockedMs);
      blocked = Math.max(blocked, g.blockedMs, s.blockedMs, w.blockedMs);
    }
  } finally {
    await uapi.close();
    await metrics.close();
    await device.close();
    if (!root) rmSync(dir, { recursive: true, force: true });
  }
  return {
    implementation: 'tunkit',
    peers: count,
    'wg show dump ms': wgShow.length ? median(wgShow) : 'needs root and wg',
    'UAPI get ms': median(get),
    'metrics scrape ms': median(scrape),
    'watcher tick ms': median(tick),
    'event loop held, max ms': blocked,
    'heap B/peer': heapPerPeer,
    'RSS B/peer': rssPerPeer,
  };
}

/** wireguard-go (Debian's) with the same peers, in a namespace of its own. */
async function wireguardGo(count: number): Promise<Row> {
  const id = `tkp${process.pid % 10000}`;
  const ns = `${id}-ns`;
  const name = `${id}g`;
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-bench-'));
  spawnSync('ip', ['netns', 'add', ns]);
  const child = spawn('ip', ['netns', 'exec', ns, 'wireguard-go', '-f', name], {
    stdio: 'ignore',
    env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
  });
  const socket = join(DEFAULT_UAPI_DIR, `${name}.sock`);
  try {
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) * 1024;
    const rssBefore = rss();
    const lines = [`[Interface]\nPrivateKey = ${randomBytes(32).toString('base64')}\nListenPort = 0\n`];
    for (let i = 0; i < count; i++) {
      lines.push(
        `[Peer]\nPublicKey = ${randomBytes(32).toString('base64')}\nAllowedIPs = ${prefixes(i).join(', ')}\nEndpoint = 192.0.2.1:${1024 + (i % 60000)}\n`,
      );
    }
    const file = join(dir, 'peers.conf');
    writeFileSync(file, lines.join('\n'), { mode: 0o600 });
    await run('wg', ['setconf', name, file]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rssPerPeer = (rss() - rssBefore) / count;
    const shows: number[] = [];
    for (let r = 0; r < RUNS; r++)
      shows.push((await timed(() => run('wg', ['show', name, 'dump'], { maxBuffer: 64 << 20 }))).ms);
    return {
      implementation: 'wireguard-go (Debian)',
      peers: count,
      'wg show dump ms': median(shows),
      'UAPI get ms': '',
      'metrics scrape ms': '',
      'watcher tick ms': '',
      'event loop held, max ms': '',
      'heap B/peer': '',
      'RSS B/peer': rssPerPeer,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(socket, { force: true });
  }
}

const rows: Row[] = [];
const skipped: string[] = [];
for (const count of COUNTS) {
  rows.push(await tunkit(count));
  if (root && haveWg) rows.push(await wireguardGo(count));
  else skipped.push(`wireguard-go at ${count} peers: needs root, wg and wireguard-go`);
}
console.log(markdownTable(rows));
for (const line of skipped) console.log(`skipped: ${line}`);
const checks = rows
  .filter((r) => r.implementation === 'tunkit')
  .flatMap((r) =>
    (['wg show dump ms', 'UAPI get ms', 'metrics scrape ms', 'watcher tick ms'] as const)
      .filter((k) => typeof r[k] === 'number')
      .map(
        (k) =>
          `${r.peers} peers, ${k}: ${(r[k] as number).toFixed(1)} ${(r[k] as number) < TARGET_MS ? '<' : '≥'} ${TARGET_MS} target`,
      ),
  );
for (const line of checks) console.log(line);
console.log(`results: ${writeResults('peers', { runs: RUNS, targetMs: TARGET_MS, rows, skipped })}`);
