// UdpBind's `protect` hook (Android's VpnService.protect): the real socket fd, before any send,
// and a failure that closes the socket and throws a typed error.
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { BindProtectError, UdpBind } from './udp-bind.js';

describe('UdpBind protect', { skip: process.platform === 'win32' ? 'no socket fds on Windows' : false }, () => {
  it('is called once with the bound socket’s fd, and open resolves only after it settled', async () => {
    const calls: number[] = [];
    let settled = false;
    const bind = await UdpBind.open({
      address: '127.0.0.1',
      ipv6: false,
      protect: async (fd) => {
        calls.push(fd);
        await new Promise((r) => setTimeout(r, 20));
        settled = true;
      },
    });
    try {
      assert.equal(calls.length, 1);
      assert.ok(settled, 'open waited for protect');
      const fd = calls[0] as number;
      if (process.platform === 'linux') assert.match(readlinkSync(`/proc/self/fd/${fd}`), /^socket:\[\d+\]$/);
      // The fd is the socket that sends: it still works after protect.
      const echo = await UdpBind.open({ address: '127.0.0.1', ipv6: false });
      const batch = new PacketBatch({ capacity: 1 });
      batch.push(Uint8Array.of(7));
      assert.equal(bind.sendMany(batch, { address: '127.0.0.1', port: echo.port }), 1);
      const got = new PacketBatch();
      assert.equal(await echo.recvMany(got, []), 1);
      await echo.close();
    } finally {
      await bind.close();
    }
  });

  it('a protect that fails closes the socket (the port is free again) and rejects with BindProtectError', async () => {
    const probe = await UdpBind.open({ address: '127.0.0.1', ipv6: false });
    const port = probe.port;
    await probe.close();
    const refusal = new Error('VpnService not prepared');
    await assert.rejects(
      UdpBind.open({
        address: '127.0.0.1',
        ipv6: false,
        port,
        protect: () => {
          throw refusal;
        },
      }),
      (error: unknown) =>
        error instanceof BindProtectError &&
        error.code === 'ERR_BIND_PROTECT' &&
        error.cause === refusal &&
        /protect\(\d+\) failed .*VpnService not prepared/.test(error.message),
    );
    const again = await UdpBind.open({ address: '127.0.0.1', ipv6: false, port });
    await again.close();
  });
});
