// A worker for lifecycle.test.ts: opens a device, keeps traffic flowing, says so, and waits to
// be terminated without closing anything.
import { createSocket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { PacketBatch } from '@tunkit/tun-core';
import { openTun } from '../../src/index.js';

const { name } = workerData as { name: string };
const tun = await openTun({ name, queues: 2, addresses: ['10.92.0.1/24'] });
const socket = createSocket('udp4');
const reading = (async () => {
  const batch = new PacketBatch();
  while ((await tun.recvMany(batch)) > 0) {}
})();
void reading;
setInterval(() => {
  for (let i = 0; i < 50; i++) socket.send(Buffer.alloc(100), 9, '10.92.0.2');
}, 1);
setTimeout(() => parentPort?.postMessage('open'), 30);
