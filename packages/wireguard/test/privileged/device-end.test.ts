// A Device on a real Linux TUN whose interface an admin deletes under it (`ip link del`): the
// Tun ends by itself (EBADFD, tun-core's rule) and the Device with it: `ended` resolves with the
// Tun's TunOsError within 2 s and the UDP port is released, so the peers hear nothing more. With
// node:dgram's UdpBind (transport data on the JS thread) and with LinuxUdpBind (the native data
// plane attached to the TUN's queue threads when the interface goes).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { TunOsError } from '@tunkit/tun-core';
import { enterPrivilegedNamespace } from '@tunkit/tun-core/testing';
import { enterNetworkNamespace, openTun } from '@tunkit/tun-linux';
import type { Bind } from '../../src/bind/bind.js';
import { LinuxUdpBind } from '../../src/bind/linux-udp-bind.js';
import { UdpBind } from '../../src/bind/udp-bind.js';
import { Device } from '../../src/device/device.js';
import { generatePrivateKey, publicKeyFrom } from '../../src/protocol/keys.js';

const { skip } = enterPrivilegedNamespace('wireguard Device with its TUN removed', enterNetworkNamespace, {
  prefix: 'wd',
});

describe('Device whose TUN is removed under it', { skip }, () => {
  for (const plane of ['js', 'native'] as const) {
    it(`ends: ended resolves with the Tun’s EBADFD within 2 s, and its UDP port is free again (${plane} data plane)`, async () => {
      const name = `tkd${plane[0]}${process.pid % 10000}`;
      const tun = await openTun({ name, queues: 2, addresses: ['10.33.0.1/24'] });
      const options = { address: '127.0.0.1', ipv6: false, port: 0 };
      const bind: Bind = plane === 'native' ? await LinuxUdpBind.open(options) : await UdpBind.open(options);
      const port = bind.port;
      const device = new Device({ tun, bind, privateKey: generatePrivateKey() });
      device.addPeer({ publicKey: publicKeyFrom(generatePrivateKey()), endpoint: { address: '127.0.0.1', port: 9 } }, [
        '10.33.0.2/32',
      ]);
      device.start();
      assert.equal(device.dataPlane.running, plane);
      try {
        execFileSync('ip', ['link', 'del', 'dev', name]);
        const started = Date.now();
        const reason = await Promise.race([
          device.ended,
          new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 2_000)),
        ]);
        assert.notEqual(reason, 'timeout', 'the Device did not end within 2 s of its TUN being removed');
        assert.ok(reason instanceof TunOsError, `ended with ${String(reason)}`);
        assert.equal(reason.errno, 'EBADFD');
        assert.equal(device.endedBy, reason);
        assert.ok(Date.now() - started < 2_000);
        const socket = createSocket('udp4');
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(port, '127.0.0.1', () => resolve());
        });
        socket.close();
      } finally {
        await device.close();
      }
    });
  }
});
