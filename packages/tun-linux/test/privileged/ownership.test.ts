// One owner per device: processes that open the same interface name at the same moments must
// never end up holding it together (with IFF_MULTI_QUEUE the kernel lets a second process attach
// queues, and the two would split the device's traffic). One wins; the others get EBUSY, named.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { TunOsError } from '@tunkit/tun-core';
import { openTun } from '../../src/index.js';
import { type Child, spawnScript } from './children.js';
import { enterTestNamespace } from './kernel-side.js';

const { skip } = enterTestNamespace('tun-linux ownership');
const RACERS = 4;
const ROUNDS = 150;

/**
 * Opens and closes `tkrace0` ROUNDS times, as fast as the addon allows (no rtnetlink
 * configuration, to widen the race); after each open, checks whether a sibling holds it too.
 */
const RACER = `
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
const { native } = await import('./src/native.ts');
const { TunDevice } = native();
const holds = (pid) => {
  try {
    return readdirSync('/proc/' + pid + '/fdinfo').some((fd) => {
      try { return /^iff:\\s+tkrace0$/m.test(readFileSync('/proc/' + pid + '/fdinfo/' + fd, 'utf8')); }
      catch { return false; }
    });
  } catch { return false; }
};
console.log('ready');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const siblings = (await lines.next()).value.split(',').map(Number).filter((pid) => pid !== process.pid);
const counts = { opened: 0, busy: 0, shared: 0, other: 0, messages: [] };
for (let i = 0; i < ${ROUNDS}; i++) {
  let device;
  try {
    device = new TunDevice({ name: 'tkrace0', queues: 2, mtu: 1420, inboundSlots: 16, outboundSlots: 16, offload: false }, () => {});
  } catch (e) {
    if (e.errno === 'EBUSY') counts.busy++;
    else counts.other++;
    if (counts.messages.length < 4 && !counts.messages.includes(e.message)) counts.messages.push(e.message);
    continue;
  }
  counts.opened++;
  if (siblings.some(holds)) counts.shared++;
  device.close();
}
console.log(JSON.stringify(counts));
process.exit(0);
`;

describe('LinuxTun ownership', { skip }, () => {
  it('attaches to a persistent device nobody holds, once, and leaves it in place at close', async () => {
    execFileSync('ip', ['tuntap', 'add', 'mode', 'tun', 'multi_queue', 'name', 'tkpersist0']);
    try {
      const tun = await openTun({ name: 'tkpersist0', queues: 2 });
      await assert.rejects(
        openTun({ name: 'tkpersist0' }),
        (e: TunOsError) =>
          e instanceof TunOsError && e.errno === 'EBUSY' && /this process already has it open/.test(e.message),
      );
      await tun.close();
      execFileSync('ip', ['link', 'show', 'dev', 'tkpersist0'], { stdio: 'ignore' }); // still there
      const again = await openTun({ name: 'tkpersist0', queues: 1 });
      await again.close();
    } finally {
      execFileSync('ip', ['tuntap', 'del', 'mode', 'tun', 'multi_queue', 'name', 'tkpersist0']);
    }
  });

  it('processes racing to open one name never share the device', { timeout: 120_000 }, async () => {
    const racers: Child[] = [];
    try {
      for (let i = 0; i < RACERS; i++) racers.push(spawnScript(RACER));
      for (const racer of racers) assert.equal(await racer.line(20_000), 'ready');
      const pids = racers.map((r) => r.process.pid).join(',');
      for (const racer of racers) racer.send(pids);
      const results = [];
      for (const racer of racers) results.push(JSON.parse(await racer.line(100_000)));
      console.log(`# racers: ${JSON.stringify(results.map(({ messages, ...counts }) => counts))}`);
      for (const r of results) {
        assert.equal(r.shared, 0, `a racer held the device together with a sibling ${r.shared} times`);
        assert.equal(r.other, 0, `errors other than EBUSY: ${r.messages.join(' | ')}`);
        for (const message of r.messages) assert.match(message, /TUN device 'tkrace0' is busy/);
      }
      assert.ok(
        results.every((r) => r.opened > 0),
        'a racer never won',
      );
      assert.ok(
        results.some((r) => r.busy > 0),
        'the racers never collided: the test did not race',
      );
      for (const racer of racers) assert.equal((await racer.exit()).code, 0, racer.stderr());
    } finally {
      for (const racer of racers) racer.process.kill('SIGKILL');
    }
  });
});
