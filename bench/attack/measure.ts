// What bench/attack measures while a scenario runs: ping through the tunnel (loss, average and
// largest round trip), the gateway's CPU and resident memory (from /proc), and the gateway
// namespace's kernel UDP counters (datagrams in, and those its socket buffer had no room for).

import { readFileSync } from 'node:fs';
import type { Lab } from '../iperf3/contenders.js';
import { cpuSecondsOf } from '../iperf3/measure.js';

export { cpuSecondsOf };

export interface PingResult {
  sent: number;
  lossPercent: number;
  avgMs: number;
  maxMs: number;
}

/** Parses ping's summary ("x% packet loss", "rtt min/avg/max/mdev = a/b/c/d ms"). */
export function parsePing(output: string, sent: number): PingResult {
  const loss = Number(/([\d.]+)% packet loss/.exec(output)?.[1] ?? 100);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(output);
  return {
    sent,
    lossPercent: loss,
    avgMs: rtt ? Number(rtt[2]) : Number.NaN,
    maxMs: rtt ? Number(rtt[3]) : Number.NaN,
  };
}

/** Starts `count` pings at `intervalS` from the client namespace to `address`; resolves the summary. */
export function startPing(lab: Lab, address: string, count: number, intervalS: number): Promise<PingResult> {
  const child = lab.spawn('client', 'ping', [
    '-q',
    '-n',
    '-c',
    String(count),
    '-i',
    String(intervalS),
    '-W',
    '1',
    address,
  ]);
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  return new Promise((resolve) => child.once('exit', () => resolve(parsePing(out, count))));
}

/** Resident memory of a process now, in MB (0 once it ended). */
export function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(match?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Samples a process's resident memory every 100 ms; `stop()` returns the largest seen (MB). */
export function sampleRss(pid: number): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMb(pid));
    },
  };
}

export interface KernelUdp {
  inDatagrams: number;
  rcvbufErrors: number;
}

/** The gateway namespace's kernel UDP counters (/proc/net/snmp there). */
export function kernelUdp(lab: Lab): KernelUdp {
  const lines = lab
    .exec('gateway', 'cat', ['/proc/net/snmp'])
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = (lines[0] ?? '').split(/\s+/).slice(1);
  const values = (lines[1] ?? '').split(/\s+/).slice(1).map(Number);
  const get = (name: string) => values[names.indexOf(name)] ?? 0;
  return { inDatagrams: get('InDatagrams'), rcvbufErrors: get('RcvbufErrors') };
}
