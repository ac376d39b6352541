#!/usr/bin/env node
// Runs node's built-in test runner over TypeScript test files (through tsx).
// Usage: node scripts/run-tests.mjs [dir ...]   (default: the current package)
// Finds src/**/*.test.ts and test/**/*.test.ts below each dir. Node 20's --test takes no globs,
// hence this small finder.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export function findTests(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      if (name === 'node_modules' || name === 'dist' || name === 'build' || name.startsWith('.')) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.ts')) out.push(p);
    }
  };
  for (const sub of ['src', 'test']) {
    try {
      if (statSync(join(dir, sub)).isDirectory()) walk(join(dir, sub));
    } catch {}
  }
  return out.sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dirs = process.argv.slice(2);
  const files = (dirs.length ? dirs : [process.cwd()]).flatMap(findTests);
  if (files.length === 0) {
    console.error('no test files found');
    process.exit(1);
  }
  const args = ['--import', 'tsx', '--test', '--test-reporter=spec', ...files.map((f) => relative(process.cwd(), f))];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
