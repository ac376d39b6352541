// openBind: the native Linux bind by default where it runs, node:dgram when asked, saying which;
// dual-stack by default with IPv4 where the host has no IPv6; a taken port is one typed error
// whichever backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketBatch, TunOsError } from '@tunkit/tun-core';
import { type Bind, BindPortInUseError, type Endpoint } from './bind.js';
import { LinuxUdpBind } from './linux-udp-bind.js';
import { dualStackOrIpv4, nativeBindUnavailable, openBind } from './open-bind.js';
import { UdpBind } from './udp-bind.js';

const linux = process.platform === 'linux';

function oneDatagram(tag: number): PacketBatch {
  const batch = new PacketBatch({ capacity: 1 });
  batch.push(new Uint8Array(64).fill(tag));
  return batch;
}

async function receiveOne(bind: Bind): Promise<{ tag: number; from: Endpoint }> {
  const batch = new PacketBatch({ capacity: 8 });
  const from: Endpoint[] = [];
  assert.ok((await bind.recvMany(batch, from)) > 0);
  return { tag: batch.packet(0)[0] as number, from: from[0] as Endpoint };
}

describe('openBind', () => {
  it('opens the native bind on Linux and node:dgram when asked, each saying which', {
    skip: !linux && 'Linux only',
  }, async () => {
    assert.equal(nativeBindUnavailable(), undefined, 'the addon is built here (CI builds it)');
    const native = await openBind({ address: '127.0.0.1' });
    const dgram = await openBind({ address: '127.0.0.1', backend: 'dgram' });
    try {
      assert.equal(native.backend, 'native');
      assert.ok(native instanceof LinuxUdpBind);
      assert.equal(dgram.backend, 'dgram');
      assert.ok(dgram instanceof UdpBind);
      native.sendMany(oneDatagram(1), { address: '127.0.0.1', port: dgram.port });
      assert.deepEqual(await receiveOne(dgram), { tag: 1, from: { address: '127.0.0.1', port: native.port } });
      dgram.sendMany(oneDatagram(2), { address: '127.0.0.1', port: native.port });
      assert.deepEqual(await receiveOne(native), { tag: 2, from: { address: '127.0.0.1', port: dgram.port } });
    } finally {
      await native.close();
      await dgram.close();
    }
  });

  it('is dual-stack by default: IPv4 and IPv6 peers on one socket', async () => {
    const bind = await openBind();
    const v4 = await UdpBind.open({ address: '127.0.0.1', ipv6: false });
    const v6 = await UdpBind.open({ address: '::1' });
    try {
      v4.sendMany(oneDatagram(4), { address: '127.0.0.1', port: bind.port });
      assert.deepEqual(await receiveOne(bind), { tag: 4, from: { address: '127.0.0.1', port: v4.port } });
      v6.sendMany(oneDatagram(6), { address: '::1', port: bind.port });
      assert.deepEqual(await receiveOne(bind), { tag: 6, from: { address: '::1', port: v6.port } });
    } finally {
      await bind.close();
      await v4.close();
      await v6.close();
    }
  });

  it('says a port is taken with BindPortInUseError, whichever backend', async () => {
    const first = await openBind({ address: '127.0.0.1' });
    try {
      for (const backend of ['native', 'dgram'] as const) {
        await assert.rejects(openBind({ address: '127.0.0.1', port: first.port, backend }), (e: unknown) => {
          assert.ok(e instanceof BindPortInUseError, `${backend}: ${e}`);
          assert.equal(e.errno, 'EADDRINUSE');
          assert.equal(e.port, first.port);
          assert.match(e.message, new RegExp(`UDP port ${first.port} is in use`));
          return true;
        });
      }
    } finally {
      await first.close();
    }
  });

  it('opens an IPv4 socket where the host refuses IPv6, and passes other errors', async () => {
    // The kernel's refusal is simulated here: no network namespace can take IPv6 away (it takes
    // ipv6.disable=1 at boot for socket(AF_INET6) to fail with EAFNOSUPPORT).
    for (const errno of ['EAFNOSUPPORT', 'EADDRNOTAVAIL']) {
      const tried: boolean[] = [];
      const result = await dualStackOrIpv4(async (ipv6) => {
        tried.push(ipv6);
        if (ipv6) throw new TunOsError(errno, 'socket', `${errno} opening a UDP socket`);
        return 'ipv4';
      });
      assert.equal(result, 'ipv4');
      assert.deepEqual(tried, [true, false]);
    }
    const tried: boolean[] = [];
    await assert.rejects(
      dualStackOrIpv4(async (ipv6) => {
        tried.push(ipv6);
        throw new BindPortInUseError(51820);
      }),
      BindPortInUseError,
    );
    assert.deepEqual(tried, [true], 'a taken port is not retried on IPv4');
  });
});
