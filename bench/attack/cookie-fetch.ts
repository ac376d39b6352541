// Scenario 3's first step, run inside the attacker namespace: get a real cookie from the gateway
// (sending valid-MAC1 initiations from one address and port while another flood keeps the
// gateway under load), then write a pool of initiations that carry a valid MAC2 for that address
// and port. Prints {"cookie":true,"pool":PATH} or, when no cookie reply came within the time,
// {"cookie":false} (a gateway that never went under load sends none).
// Run: node --import tsx cookie-fetch.ts GATEWAY PORT GATEWAY_PUBLIC_KEY SOURCE SOURCE_PORT COUNT SECONDS DIR
// (the pool goes below DIR, which the caller removes).

import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { MacSender, parseKey } from '@tunkit/wireguard';
// @ts-expect-error: plain ESM module without types.
import { writePool } from '../../scripts/lab/attacker.mjs';

const [gateway, port, publicKey, source, sourcePort, count, seconds, dir] = process.argv.slice(2) as string[];
const sender = new MacSender(parseKey(publicKey as string, 'PublicKey'));

function initiation(): Uint8Array {
  const message = randomBytes(148);
  message.set([1, 0, 0, 0]);
  sender.seal(message, performance.now());
  return message;
}

const socket = createSocket('udp4');
await new Promise<void>((resolve) => socket.bind(Number(sourcePort), source, resolve));
const deadline = performance.now() + Number(seconds) * 1000;
let cookie = false;
while (!cookie && performance.now() < deadline) {
  // One at a time: a cookie reply is sealed to the MAC1 of the message it answers, the last one sent.
  const reply = new Promise<Buffer | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 200);
    socket.once('message', (message) => {
      clearTimeout(timer);
      resolve(message);
    });
  });
  socket.send(initiation(), Number(port), gateway);
  const message = await reply;
  if (message?.[0] === 3 && message.length === 64) cookie = sender.consumeCookieReply(message, performance.now());
}
socket.close();
if (!cookie) {
  console.log(JSON.stringify({ cookie: false }));
} else {
  const pool = writePool(Array.from({ length: Number(count) }, initiation), dir); // MAC1 and, now, MAC2
  console.log(JSON.stringify({ cookie: true, pool }));
}
