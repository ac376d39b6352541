// Where the time goes: the top functions by self time of V8 .cpuprofile files (node --cpu-prof),
// merged per file-name prefix (e.g. every "gateway-q2-*" run together).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable } from './report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time in ms per "function (file:line)". */
export function selfTimes(profile: Profile): Map<string, number> {
  const names = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(packages|apps)\//, '$1/').replace(/^file:\/\//, '');
    names.set(node.id, `${functionName || '(anonymous)'}${file ? ` (${file}:${lineNumber + 1})` : ''}`);
  }
  const times = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const name = names.get(id) ?? '?';
    times.set(name, (times.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return times;
}

/** Prints, per group of profiles (file name up to the last "-"), the top `n` functions by self time. */
export function printProfiles(dir: string, n = 15): void {
  const groups = new Map<string, Map<string, number>>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const group = file.replace(/-\d+\.cpuprofile$/, '');
    const merged = groups.get(group) ?? new Map<string, number>();
    for (const [name, ms] of selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile)) {
      merged.set(name, (merged.get(name) ?? 0) + ms);
    }
    groups.set(group, merged);
  }
  for (const [group, times] of groups) {
    const total = [...times.values()].reduce((a, b) => a + b, 0);
    const top = [...times.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
    console.log(`\nCPU profile ${group}: ${(total / 1000).toFixed(1)} s sampled; top ${n} by self time\n`);
    console.log(
      markdownTable(top.map(([fn, ms]) => ({ function: fn, 'self ms': Math.round(ms), '%': (100 * ms) / total }))),
    );
  }
  console.log(`\nprofiles in ${dir} (open them in Chrome DevTools)`);
}
