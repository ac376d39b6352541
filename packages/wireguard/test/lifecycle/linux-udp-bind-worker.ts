// A worker for linux-udp-bind-lifecycle.test.ts: opens a LinuxUdpBind on loopback with a receive
// pending and datagrams arriving, says so, and waits to be terminated without closing anything.
import { createSocket } from 'node:dgram';
import { parentPort } from 'node:worker_threads';
import { PacketBatch } from '@tunkit/tun-core';
import { LinuxUdpBind } from '../../src/bind/linux-udp-bind.js';

const bind = await LinuxUdpBind.open({ address: '127.0.0.1', ipv6: false });
const reading = (async () => {
  const batch = new PacketBatch();
  while ((await bind.recvMany(batch, [])) > 0) {}
})();
void reading;
const socket = createSocket('udp4');
setInterval(() => {
  for (let i = 0; i < 50; i++) socket.send(Buffer.alloc(100), bind.port, '127.0.0.1');
}, 1);
setTimeout(() => parentPort?.postMessage('open'), 30);
