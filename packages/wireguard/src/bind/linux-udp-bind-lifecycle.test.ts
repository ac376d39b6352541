// Lifetimes the user does not end with close(): a process that exits, or dies on an uncaught
// exception, with a LinuxUdpBind open and a receive pending, and a worker terminated with one
// open. Each must end promptly, without a crash, and leave no fd or thread behind (the socket's
// environment cleanup hook closes its poll handle and fd).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Opens a bind with a receive pending and datagrams in flight, prints 'open', then runs `then`. */
const OPEN_AND_LEAVE = (then: string) => `
const { LinuxUdpBind } = await import('./src/bind/linux-udp-bind.ts');
const { PacketBatch } = await import('@tunkit/tun-core');
const bind = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false });
void bind.recvMany(new PacketBatch(), []);
const socket = (await import('node:dgram')).createSocket('udp4');
for (let i = 0; i < 200; i++) socket.send(Buffer.alloc(100), bind.port, '127.0.0.1');
setTimeout(() => { console.log('open'); ${then} }, 50);
`;

/** Runs `script` as a child; resolves its exit once it has printed 'open' and ended. */
function runChild(
  script: string,
): Promise<{ code: number | null; signal: string | null; ms: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: packageDir,
    });
    let out = '';
    let err = '';
    let openedAt = 0;
    child.stdout.on('data', (d) => {
      out += String(d);
      if (openedAt === 0 && out.includes('open')) openedAt = Date.now();
    });
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not end within 20 s; stderr: ${err}`));
    }, 20_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: openedAt === 0 ? -1 : Date.now() - openedAt, out, err });
    });
  });
}

const fds = () => readdirSync('/proc/self/fd').length;
const threads = () => readdirSync('/proc/self/task').length;

describe('LinuxUdpBind lifecycle', { skip: process.platform === 'linux' ? false : 'Linux only' }, () => {
  it('a process that exits with the bind open and a receive pending ends promptly', async () => {
    const r = await runChild(OPEN_AND_LEAVE('process.exit(0);'));
    assert.equal(r.out.trim(), 'open', r.err);
    assert.equal(r.signal, null, r.err);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.ms >= 0 && r.ms < 3000, `exit took ${r.ms} ms`);
  });

  it('a process that dies on an uncaught exception with the bind open ends promptly', async () => {
    const r = await runChild(OPEN_AND_LEAVE("throw new Error('boom');"));
    assert.equal(r.out.trim(), 'open', r.err);
    assert.equal(r.signal, null, r.err);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /boom/);
    assert.ok(r.ms >= 0 && r.ms < 3000, `exit took ${r.ms} ms`);
  });

  it('worker.terminate() with the bind open and receiving ends promptly, leaving no fd or thread', async () => {
    const fdsBefore = fds();
    const threadsBefore = threads();
    for (let round = 0; round < 5; round++) {
      const worker = new Worker(
        `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(join(packageDir, 'test/lifecycle/linux-udp-bind-worker.ts'))}); });`,
        { eval: true },
      );
      const errors: Error[] = [];
      worker.on('error', (error) => errors.push(error));
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('exit', (code) => reject(new Error(`worker exited early with ${code}: ${errors.join(' ')}`)));
      });
      const start = Date.now();
      await worker.terminate();
      const ms = Date.now() - start;
      assert.ok(ms < 3000, `terminate took ${ms} ms`);
      assert.deepEqual(errors, []);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(fds(), fdsBefore, 'fds left open by terminated workers');
    assert.equal(threads(), threadsBefore, 'threads left running by terminated workers');
  });
});
