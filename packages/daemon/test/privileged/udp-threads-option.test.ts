// --udp-threads: a gateway with two native UDP receive threads (an SO_REUSEPORT group on its
// port) has them, and carries the tunnel both ways; its "up" line is unchanged.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { createLab, type Lab, startTunnel, TUNNEL } from './lab.js';

const { skip } = privilegedSuite('a tunkit gateway with --udp-threads 2');
const id = process.pid % 10000;
const names = { gateway: `tkug${id}`, client: `tkuc${id}` };

/** The names of a process's threads. */
function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
}

describe('--udp-threads', { skip }, () => {
  let lab: Lab;
  let daemons: Awaited<ReturnType<typeof startTunnel>> | undefined;

  before(async () => {
    lab = createLab();
    daemons = await startTunnel(lab, names, { gateway: ['--udp-threads', '2'] });
  });

  after(async () => {
    await daemons?.stop();
    lab?.destroy();
  });

  it('runs that many receive threads on the gateway, and the tunnel carries traffic both ways', async () => {
    const { gateway, client } = daemons as NonNullable<typeof daemons>;
    await client.waitForLog('handshake completed');
    assert.match(lab.exec('client', 'ping', ['-c', '5', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
    assert.match(lab.exec('gateway', 'ping', ['-c', '5', '-i', '0.2', '-W', '2', TUNNEL.client]), / 0% packet loss/);
    const receivers = (pid: number) =>
      threadNames(pid)
        .filter((n) => n.startsWith('tunkit-udp-rx'))
        .sort();
    assert.deepEqual(receivers(gateway.child.pid as number), ['tunkit-udp-rx-0', 'tunkit-udp-rx-1']);
    assert.deepEqual(receivers(client.child.pid as number), ['tunkit-udp-rx-0'], 'the default is one');
  });
});
