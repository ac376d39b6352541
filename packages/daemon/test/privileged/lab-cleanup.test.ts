// The lab cleans up after itself when its process gets SIGINT (Ctrl-C) or SIGTERM: namespaces,
// the daemons' journals (/run/tunkit/<name>.json) and UAPI sockets, and the config files (they
// hold private keys) — not only when it ends normally.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { daemonLeftovers, ROOT } from './lab.js';

const { skip } = privilegedSuite('the lab’s cleanup on SIGINT/SIGTERM');

/** A lab with a gateway (--forward, so it journals), run by its own process; prints what it made. */
const LAB_SCRIPT = (id: string, name: string) => `
import { createLab } from '${ROOT}/scripts/lab/topology.mjs';
import { startDaemon, tunnelConfigs, writeConfigs } from '${ROOT}/scripts/lab/tunnel.mjs';
const lab = createLab({ id: '${id}' });
const files = writeConfigs({ '${name}': tunnelConfigs().gatewayText }, lab);
const gateway = startDaemon(lab, 'gateway', 'gateway', files.paths['${name}'], ['--forward']);
await gateway.waitForLog('gateway up');
console.log(JSON.stringify({ dir: files.dir, ns: Object.values(lab.ns) }));
setInterval(() => {}, 1000);`;

describe('lab.destroy on a signal', { skip }, () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`removes namespaces, journals, UAPI sockets and configs on ${signal}`, async () => {
      const id = `tkz${process.pid % 1000}${signal === 'SIGINT' ? 'i' : 't'}`;
      const name = `${id}gw`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', LAB_SCRIPT(id, name)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const made = await new Promise<{ dir: string; ns: string[] }>((resolve, reject) => {
        child.stdout.once('data', (d) => resolve(JSON.parse(String(d))));
        child.once('exit', (code) => reject(new Error(`lab script exited ${code}: ${stderr}`)));
      });
      const leftovers = [...daemonLeftovers(name), made.dir];
      for (const path of leftovers) assert.ok(existsSync(path), `${path} exists while the lab runs`);
      const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig)));
      child.kill(signal);
      assert.equal(await exited, signal, 'the signal is re-raised after the cleanup');
      for (const path of leftovers) assert.ok(!existsSync(path), `${path} is removed`);
      const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      for (const ns of made.ns) assert.ok(!namespaces.includes(ns), `namespace ${ns} is deleted`);
    });
  }
});
