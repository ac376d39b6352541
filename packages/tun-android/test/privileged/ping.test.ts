// ping through an AndroidTun: the kernel's ping sends echo requests into the device, JS reads them
// with recvMany, answers with sendMany, and ping must see every reply (IPv4 and IPv6). Also checks
// what fromFd does with the fd: the name from TUNGETIFF, O_NONBLOCK set, the fd closed at close().

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { fromFd } from '../../src/index.js';
import { echoReply } from './echo-responder.js';
import { enterTestNamespace, openKernelTun } from './kernel-side.js';

const { skip, ns } = enterTestNamespace('tun-android ping', { ipv6: true });

function ping(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('ping', args, { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

describe('AndroidTun: ping through the device', { skip }, () => {
  after(() => ns?.destroy());

  it('answers IPv4 and IPv6 pings from JS, one recvMany/sendMany per batch', { timeout: 30_000 }, async () => {
    if (!ns) throw new Error('no test namespace');
    ns.exec('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=0']);
    const fd = openKernelTun(ns, 'tkping0', ['10.79.0.1/24', 'fd00:79::1/64'], 1400);
    const tun = fromFd(fd, { mtu: 1400 });
    assert.equal(tun.name, 'tkping0', 'the name comes from the kernel (TUNGETIFF)');
    let answered = 0;
    const responder = (async () => {
      const replies = new PacketBatch({ capacity: 100 });
      for await (const batch of tun) {
        replies.clear();
        for (const packet of batch) {
          const reply = echoReply(packet);
          if (reply) replies.push(reply);
        }
        let start = 0;
        while (start < replies.length) {
          start += tun.sendMany(replies, start);
          if (start < replies.length) await tun.sendReady();
        }
        answered += replies.length;
      }
    })();
    try {
      const v4 = await ping(['-c', '5', '-i', '0.2', '-W', '2', '10.79.0.2']);
      assert.equal(v4.code, 0, `ping 10.79.0.2 failed:\n${v4.output}`);
      assert.match(v4.output, /5 received/);
      const v6 = await ping(['-6', '-c', '5', '-i', '0.2', '-W', '2', 'fd00:79::2']);
      assert.equal(v6.code, 0, `ping fd00:79::2 failed:\n${v6.output}`);
      assert.match(v6.output, /5 received/);
      assert.ok(answered >= 10, `answered ${answered} echo requests`);
      const stats = tun.stats();
      assert.ok(stats.rxPackets >= 10 && stats.txPackets >= 10, JSON.stringify(stats));
      assert.equal(stats.txDropped, 0);
    } finally {
      await tun.close();
      await responder;
    }
    assert.throws(() => fstatSync(fd), { code: 'EBADF' }, 'close() closed the adopted fd');
    assert.throws(() => ns.exec('ip', ['link', 'show', 'tkping0']), 'the device went away with its fd');
  });
});
