// What the iperf3 bench measures on one contender's path, once it is up: an iperf3 test with the
// daemons' CPU seconds over it (so CPU seconds per GB carried), and ping round trips through the
// tunnel, idle and under a single-stream iperf3.

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpuByGroup, threadCpu } from '../lib/thread-cpu.js';
import type { DaemonProcess, Lab } from './contenders.js';

export type Test = { name: string; args: string[]; udp?: boolean };

export interface Sample {
  gbps: number;
  /** Bytes the receiver got. */
  bytes: number;
  retransmits?: number;
  lossPercent?: number;
  /** CPU seconds of each daemon during the test, by role. */
  cpuSeconds: Record<string, number>;
  /** The same, by role and thread group (the JS thread, tunkit's native threads, the rest). */
  threads: Record<string, Record<string, number>>;
  /** Why the run failed (iperf3's error, or how it ended): the sample then carries no figures. */
  error?: string;
}

export interface PingSample {
  avgMs: number;
  maxMs: number;
  lost: number;
  /** Throughput of the iperf3 that loaded the path meanwhile (undefined when idle). */
  loadGbps?: number;
  /** Why the series or its load failed (no reply at all, iperf3's error). */
  error?: string;
}

/** CPU seconds (user + system) of one process so far; 0 once it has ended. */
export function cpuSecondsOf(pid: number): number {
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
export function peakRssMb(daemons: DaemonProcess[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of daemons) {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'));
      out[d.role] = Number(match?.[1] ?? 0) / 1024;
    } catch {}
  }
  return out;
}

/** How a command ended. */
export interface Ended {
  stdout: string;
  stderr: string;
  /** The exit code; null when a signal ended it. */
  code: number | null;
}

/**
 * Runs `command` in a namespace of the lab, resolving how it ended (ping exits 1 when some replies
 * were lost and still prints its summary; iperf3 exits 1 on an error and says it in its JSON).
 */
function run(lab: Lab, where: string, command: string, args: string[]): { child: ChildProcess; done: Promise<Ended> } {
  const child = lab.spawn(where, command, args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<Ended>((resolve) => child.once('exit', (code) => resolve({ stdout, stderr, code })));
  return { child, done };
}

export type IperfResult = Omit<Sample, 'cpuSeconds' | 'threads'>;

/**
 * Parses how an iperf3 -J run ended: what arrived, or, when iperf3 reports an error (the server
 * busy or unreachable, the control connection lost) or printed no totals, a sample that says why
 * and carries no figures. Never throws: one failed run is counted and printed, the bench goes on.
 */
export function iperfResult(ended: Ended, udp: boolean): IperfResult {
  const failed = (why: string): IperfResult => ({ gbps: Number.NaN, bytes: 0, error: why });
  const how = ended.code === null ? 'killed' : `exit ${ended.code}`;
  let result: { error?: unknown; end?: Record<string, { [key: string]: number } | undefined> };
  try {
    result = JSON.parse(ended.stdout);
  } catch {
    const said = ended.stderr.trim() || ended.stdout.trim();
    return failed(`iperf3 printed no JSON (${how})${said ? `: ${said.split('\n')[0]}` : ''}`);
  }
  if (typeof result.error === 'string') return failed(`iperf3: ${result.error} (${how})`);
  const end = result.end ?? {};
  if (udp) {
    // What arrived: the receiver's sum where this iperf3 reports one, else the offered rate less the loss.
    const sum = end.sum_received ?? end.sum;
    if (sum === undefined) return failed(`iperf3 reported no UDP totals (${how})`);
    const factor = end.sum_received ? 1 : 1 - (sum.lost_percent ?? 0) / 100;
    return {
      gbps: ((sum.bits_per_second ?? 0) * factor) / 1e9,
      bytes: (sum.bytes ?? 0) * factor,
      lossPercent: sum.lost_percent,
    };
  }
  if (end.sum_received === undefined) return failed(`iperf3 reported no TCP totals (${how})`);
  return {
    gbps: (end.sum_received.bits_per_second ?? 0) / 1e9,
    bytes: end.sum_received.bytes ?? 0,
    retransmits: end.sum_sent?.retransmits,
  };
}

export async function measureIperf(lab: Lab, daemons: DaemonProcess[], test: Test, seconds: number): Promise<Sample> {
  const before = cpuByRole(daemons);
  const threadsBefore = daemons.map((d) => threadCpu(d.pid));
  const ended = await run(lab, 'client', 'iperf3', [
    '-c',
    lab.addresses.server as string,
    '-t',
    String(seconds),
    '-J',
    ...test.args,
  ]).done;
  const after = cpuByRole(daemons);
  const threads = Object.fromEntries(
    daemons.map((d, i) => [d.role, cpuByGroup(d.pid, threadsBefore[i] ?? new Map(), threadCpu(d.pid))]),
  );
  const cpuSeconds = Object.fromEntries(Object.entries(after).map(([role, s]) => [role, s - (before[role] ?? 0)]));
  return { ...iperfResult(ended, test.udp === true), cpuSeconds, threads };
}

/** `count` pings client → server at `perSecond`, through the contender's path. */
async function ping(lab: Lab, count: number, perSecond: number): Promise<PingSample> {
  const { stdout } = await run(lab, 'client', 'ping', [
    '-q',
    '-n',
    '-c',
    String(count),
    '-i',
    (1 / perSecond).toFixed(3),
    '-W',
    '2',
    lab.addresses.server as string,
  ]).done;
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(stdout);
  const received = /(\d+) received/.exec(stdout);
  // Without a single reply ping prints no round-trip line: a failed series, counted, not a crash.
  if (!rtt || !received) {
    return { avgMs: Number.NaN, maxMs: Number.NaN, lost: count, error: `ping: no round trip: ${stdout.trim()}` };
  }
  return { avgMs: Number(rtt[2]), maxMs: Number(rtt[3]), lost: count - Number(received[1]) };
}

/** Ping round trips on the idle path: 50 at 20/s. */
export function pingIdle(lab: Lab): Promise<PingSample> {
  return ping(lab, 50, 20);
}

/**
 * Ping round trips under load: 50 at 12/s while a single-stream iperf3 runs client → server,
 * starting after its first second (past slow start) and ending before it does.
 */
export async function pingUnderLoad(lab: Lab): Promise<PingSample> {
  const count = 50;
  const perSecond = 12;
  const loadSeconds = Math.ceil(count / perSecond) + 3;
  const load = run(lab, 'client', 'iperf3', ['-c', lab.addresses.server as string, '-t', String(loadSeconds), '-J']);
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sample = await ping(lab, count, perSecond);
    const loaded = iperfResult(await load.done, false);
    sample.loadGbps = loaded.gbps;
    if (loaded.error !== undefined) sample.error = `the load failed: ${loaded.error}`;
    return sample;
  } finally {
    if (load.child.exitCode === null) load.child.kill('SIGKILL');
  }
}
