// An attacker for the lab (topology.mjs): a fourth namespace joined to the gateway, from which
// udp-flood.c sends bounded floods to the gateway's UDP port. Used by bench/attack and by the
// daemon's attack tests. Everything stays inside the lab's namespaces: the attacker's addresses
// (10.88.3.0/24, and 10.89.0.0/16 for many sources) exist only there and in the gateway's routes.
//
//   client ns —— gateway ns —— server ns
//                   g2 10.88.3.1/24 ——— a0 10.88.3.2/24 (+ 10.89.x.y/32 …)  attacker ns

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const ATTACKER = {
  address: '10.88.3.2',
  gateway: '10.88.3.1',
  /** Extra source addresses come from here (10.89.0.1, 10.89.0.2, …). */
  sourcesPrefix: '10.89',
};

let tool;

/** Builds udp-flood.c once per process (cc -O2) into a temporary directory; returns its path. */
export function floodTool() {
  if (tool) return tool;
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-flood-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'udp-flood');
  execFileSync('cc', ['-O2', '-o', path, join(here, 'udp-flood.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
  tool = path;
  return tool;
}

/**
 * Adds the attacker namespace to `lab`, with `sources` extra addresses (10.89.0.1 …) on a0 that
 * the gateway routes back to it. Removed with the lab. Returns { ns, address, gateway, sources }
 * (sources: every address the attacker may send from, its own first).
 */
export function addAttacker(lab, options = {}) {
  const ns = `${lab.id}-a`;
  const extra = options.sources ?? 0;
  execFileSync('ip', ['netns', 'add', ns]);
  lab.onDestroy(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  });
  execFileSync('ip', ['link', 'add', 'g2', 'netns', lab.ns.gateway, 'type', 'veth', 'peer', 'name', 'a0', 'netns', ns]);
  const inNs = (args) => execFileSync('ip', ['-n', ns, ...args]);
  lab.exec('gateway', 'ip', ['addr', 'add', `${ATTACKER.gateway}/24`, 'dev', 'g2']);
  lab.exec('gateway', 'ip', ['link', 'set', 'g2', 'up']);
  inNs(['addr', 'add', `${ATTACKER.address}/24`, 'dev', 'a0']);
  inNs(['link', 'set', 'a0', 'up']);
  inNs(['link', 'set', 'lo', 'up']);
  const sources = [ATTACKER.address];
  if (extra > 0) {
    const lines = [];
    for (let i = 1; i <= extra; i++) {
      const address = `${ATTACKER.sourcesPrefix}.${i >> 8}.${i & 255}`;
      sources.push(address);
      lines.push(`addr add ${address}/32 dev a0`);
    }
    execFileSync('ip', ['-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
    lab.exec('gateway', 'ip', ['route', 'add', `${ATTACKER.sourcesPrefix}.0.0/16`, 'via', ATTACKER.address]);
  }
  return { ns, address: ATTACKER.address, gateway: ATTACKER.gateway, sources };
}

/**
 * Writes datagrams as udp-flood's pool file ([u16 LE length][bytes] each) and returns its path:
 * into `dir` when given (the caller removes it), else into a temporary directory removed when this
 * process exits.
 */
export function writePool(datagrams, dir) {
  const parts = [];
  for (const d of datagrams) {
    const header = Buffer.alloc(2);
    header.writeUInt16LE(d.length);
    parts.push(header, Buffer.from(d.buffer, d.byteOffset, d.length));
  }
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'tunkit-pool-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const path = join(mkdtempSync(join(dir, 'pool-')), 'pool.bin');
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

/**
 * Starts a flood from the attacker namespace: `rate` datagrams/s for `seconds` to the gateway's
 * `port`, datagrams from `pool` (a pool file), from `sources` (default: the attacker's own
 * address) and `sourcePort` (default: 64 ports from 40000; 0 is allowed). Returns { child, done },
 * `done` resolving udp-flood's report { sent, errors, seconds, rate }.
 */
export function startFlood(lab, attacker, options) {
  const args = [
    'send',
    '--to',
    attacker.gateway,
    '--port',
    String(options.port),
    '--rate',
    String(options.rate),
    '--seconds',
    String(options.seconds),
    '--pool',
    options.pool,
  ];
  const sources = options.sources ?? [attacker.address];
  if (sources.length > 20) {
    const file = join(dirname(options.pool), 'sources.txt');
    writeFileSync(file, `${sources.join('\n')}\n`);
    args.push('--from-file', file);
  } else {
    args.push('--from', sources.join(','));
  }
  if (options.sourcePort !== undefined) args.push('--sport', String(options.sourcePort));
  const child = lab.spawn(attacker.ns, floodTool(), args);
  const done = new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`udp-flood exited ${code}: ${err.trim()}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
  return { child, done };
}

/**
 * The receiver index of the client's next transport message to the gateway (as the gateway
 * knows its session), read off the client's veth c0; undefined if none within `seconds`.
 */
export function captureReceiverIndex(lab, port, seconds = 10) {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', [
      'netns',
      'exec',
      lab.ns.client,
      floodTool(),
      'capture',
      '--dev',
      'c0',
      '--port',
      String(port),
      '--seconds',
      String(seconds),
    ]);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`udp-flood capture exited ${code}`));
      const receiver = JSON.parse(out.trim()).receiver;
      resolve(receiver === null ? undefined : Buffer.from(receiver, 'hex'));
    });
  });
}
