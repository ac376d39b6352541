// The machine's calibration line, printed with every bench's table and stored in its JSON, so that
// figures from different machines can be compared: one core's bulk ChaCha20-Poly1305 through
// node:crypto (what sealing costs here) and a fixed JS loop (what the JS thread's work costs
// here). Both are timed in CPU seconds of this process, not wall-clock, so a busy machine distorts
// them less (it still does through shared caches and frequency: the load average is printed too).

import { createCipheriv } from 'node:crypto';
import { cpus, loadavg } from 'node:os';

export interface Calibration {
  /** GB/s (10^9 bytes) of ChaCha20-Poly1305 sealing, 64 KiB updates on one cipher, node:crypto. */
  chachaGBps: number;
  /** Nanoseconds per iteration of a fixed xorshift-and-store JS loop. */
  jsLoopNs: number;
  /** The 1-minute load average when measured, and the machine. */
  loadAverage: number;
  cpus: number;
  cpuModel: string;
  node: string;
}

/** CPU seconds (user + system) this process used so far. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const CHUNK = 64 * 1024;
const CHACHA_BYTES = 256 * 1024 * 1024;
const LOOP_ITERATIONS = 50_000_000;

function chachaGBps(): number {
  const chunk = Buffer.alloc(CHUNK, 7);
  const cipher = createCipheriv('chacha20-poly1305', Buffer.alloc(32, 1), Buffer.alloc(12, 2), { authTagLength: 16 });
  cipher.update(chunk); // warm up
  const started = cpuSeconds();
  for (let done = 0; done < CHACHA_BYTES; done += CHUNK) cipher.update(chunk);
  const seconds = cpuSeconds() - started;
  cipher.final();
  return CHACHA_BYTES / seconds / 1e9;
}

function jsLoopNs(): number {
  const table = new Int32Array(1024);
  let x = 0x9e3779b9 | 0;
  const run = (iterations: number) => {
    for (let i = 0; i < iterations; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      table[i & 1023] = (table[i & 1023] as number) + x;
    }
  };
  run(100_000); // let the JIT compile it first
  const started = cpuSeconds();
  run(LOOP_ITERATIONS);
  const seconds = cpuSeconds() - started;
  if (table[x & 1023] === 0.5) console.log(''); // keeps the loop's result alive; never true
  return (seconds * 1e9) / LOOP_ITERATIONS;
}

let measured: Calibration | undefined;

/** Measures once per process (about a second of CPU); later calls return the same figures. */
export function calibrate(): Calibration {
  measured ??= {
    loadAverage: loadavg()[0] as number,
    chachaGBps: chachaGBps(),
    jsLoopNs: jsLoopNs(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
  return measured;
}

/** "calibration: ChaCha20-Poly1305 0.39 GB/s/core (node:crypto), JS loop 1.10 ns/iteration; …" */
export function calibrationLine(c: Calibration = calibrate()): string {
  return (
    `calibration: ChaCha20-Poly1305 ${c.chachaGBps.toFixed(2)} GB/s on one core (node:crypto, 64 KiB updates), ` +
    `JS loop ${c.jsLoopNs.toFixed(2)} ns/iteration (CPU time); load average ${c.loadAverage.toFixed(1)} when measured, ` +
    `${c.cpus} × ${c.cpuModel}, node ${c.node}`
  );
}
