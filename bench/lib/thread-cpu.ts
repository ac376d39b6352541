// A process's CPU by thread, from /proc/<pid>/task/<tid>/stat: to see what the JS thread does and
// what the native threads do (tunkit-queue-N seal, tunkit-udp-rx opens), and so how the work
// would spread over more cores. Threads are grouped by what they are: the JS thread (tid = pid),
// tunkit's native data-path threads by name, and the rest (libuv's pool, V8's compiler and GC).

import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) per thread id, with the thread's name, so far. */
export function threadCpu(pid: number): Map<number, { name: string; seconds: number }> {
  const out = new Map<number, { name: string; seconds: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // the process ended
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { name, seconds: (Number(fields[11]) + Number(fields[12])) / 100 });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** A thread's group: 'JS thread', a tunkit data-path thread's name without its number, or 'other'. */
export function threadGroup(pid: number, tid: number, name: string): string {
  if (tid === pid) return 'JS thread';
  if (name.startsWith('tunkit-queue')) return 'TUN queue threads (seal)';
  if (name.startsWith('tunkit-udp-rx')) return 'UDP receive threads (open)';
  return 'other';
}

/** CPU seconds per thread group between two threadCpu() snapshots of `pid`. */
export function cpuByGroup(
  pid: number,
  before: Map<number, { name: string; seconds: number }>,
  after: Map<number, { name: string; seconds: number }>,
): Record<string, number> {
  const groups: Record<string, number> = {};
  for (const [tid, { name, seconds }] of after) {
    const group = threadGroup(pid, tid, name);
    groups[group] = (groups[group] ?? 0) + seconds - (before.get(tid)?.seconds ?? 0);
  }
  return groups;
}

/** The thread that used the most CPU between two threadCpu() snapshots: its name and seconds. */
export function busiestThread(
  before: Map<number, { name: string; seconds: number }>,
  after: Map<number, { name: string; seconds: number }>,
): { name: string; seconds: number } {
  let busiest = { name: '-', seconds: 0 };
  for (const [tid, { name, seconds }] of after) {
    const used = seconds - (before.get(tid)?.seconds ?? 0);
    if (used > busiest.seconds) busiest = { name, seconds: used };
  }
  return busiest;
}
