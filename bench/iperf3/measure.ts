// What the iperf3 bench measures on one contender's path, once it is up: an iperf3 test with the
// daemons' CPU seconds over it (so CPU seconds per GB carried), and ping round trips through the
// tunnel, idle and under a single-stream iperf3.

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
}

export interface PingSample {
  avgMs: number;
  maxMs: number;
  lost: number;
  /** Throughput of the iperf3 that loaded the path meanwhile (undefined when idle). */
  loadGbps?: number;
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

/**
 * Runs `command` in a namespace of the lab, resolving its stdout; a non-zero exit rejects with its
 * stderr, unless `anyExit` (ping exits 1 when some replies were lost, and still prints its summary).
 */
function run(
  lab: Lab,
  where: string,
  command: string,
  args: string[],
  anyExit = false,
): { child: ChildProcess; done: Promise<string> } {
  const child = lab.spawn(where, command, args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<string>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 || anyExit
        ? resolve(stdout)
        : reject(new Error(`in ${where}: ${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`)),
    ),
  );
  return { child, done };
}

/** Parses iperf3 -J output: what arrived. */
function iperfResult(output: string, udp: boolean): Omit<Sample, 'cpuSeconds'> {
  const result = JSON.parse(output);
  if (udp) {
    // What arrived: the receiver's sum where this iperf3 reports one, else the offered rate less the loss.
    const sum = result.end.sum_received ?? result.end.sum;
    const factor = result.end.sum_received ? 1 : 1 - sum.lost_percent / 100;
    return { gbps: (sum.bits_per_second * factor) / 1e9, bytes: sum.bytes * factor, lossPercent: sum.lost_percent };
  }
  return {
    gbps: result.end.sum_received.bits_per_second / 1e9,
    bytes: result.end.sum_received.bytes,
    retransmits: result.end.sum_sent.retransmits,
  };
}

export async function measureIperf(lab: Lab, daemons: DaemonProcess[], test: Test, seconds: number): Promise<Sample> {
  const before = cpuByRole(daemons);
  const output = await run(lab, 'client', 'iperf3', [
    '-c',
    lab.addresses.server as string,
    '-t',
    String(seconds),
    '-J',
    ...test.args,
  ]).done;
  const after = cpuByRole(daemons);
  const cpuSeconds = Object.fromEntries(Object.entries(after).map(([role, s]) => [role, s - (before[role] ?? 0)]));
  return { ...iperfResult(output, test.udp === true), cpuSeconds };
}

/** `count` pings client → server at `perSecond`, through the contender's path. */
async function ping(lab: Lab, count: number, perSecond: number): Promise<PingSample> {
  const output = await run(
    lab,
    'client',
    'ping',
    ['-q', '-n', '-c', String(count), '-i', (1 / perSecond).toFixed(3), '-W', '2', lab.addresses.server as string],
    true,
  ).done;
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(output);
  const received = /(\d+) received/.exec(output);
  if (!rtt || !received) throw new Error(`ping printed no round-trip summary: ${output.trim()}`);
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
    sample.loadGbps = iperfResult(await load.done, false).gbps;
    return sample;
  } finally {
    if (load.child.exitCode === null) load.child.kill('SIGKILL');
  }
}
