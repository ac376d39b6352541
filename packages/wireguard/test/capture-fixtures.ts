// Captures a handshake with the reference implementation, for known-answer tests that do not
// depend on this code's own output: Debian's wireguard-go (in a namespace, keys we chose) initiates
// to a plain UDP socket here; we answer with our responder using a deterministic random source;
// wireguard-go then sends its first transport packet (a ping) under keys it derived itself.
// The bytes go to test/fixtures/wireguard-go-handshake.json.
// Run (root, wireguard-go and wg installed): node --import tsx test/capture-fixtures.ts
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNamespace, vethPair } from '@tunkit/tun-core/testing';
import { enterNetworkNamespace } from '@tunkit/tun-linux';
import { MacReceiver, MacSender, MacState } from '../src/protocol/cookie.js';
import { mac, xaeadOpen } from '../src/protocol/crypto.js';
import { consumeInitiation, createInitiation, createResponse } from '../src/protocol/handshake.js';
import { formatKey, generatePrivateKey, publicKeyFrom } from '../src/protocol/keys.js';
import { deterministicRandom } from './deterministic-random.js';
import { startWireguardGo, type WireguardGo } from './wireguard-go.js';

const here = createNamespace('capA');
const there = createNamespace('capB');
const name = `wgcap${process.pid % 10000}`;
let wireguardGo: WireguardGo | undefined;
try {
  vethPair(here, 'ca', '10.41.0.1/24', there, 'cb', '10.41.0.2/24');
  const ourKey = generatePrivateKey();
  const theirKey = generatePrivateKey();
  wireguardGo = await startWireguardGo(
    there,
    name,
    theirKey,
    ['peer', formatKey(publicKeyFrom(ourKey)), 'endpoint', '10.41.0.1:51820', 'allowed-ips', '10.42.0.1/32'],
    '10.42.0.2/24',
  );
  enterNetworkNamespace(here.name);

  const identity = { privateKey: ourKey, publicKey: publicKeyFrom(ourKey) };
  const seed = 'tunkit wireguard-go fixture';
  const random = deterministicRandom(seed);
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(51820, '10.41.0.1', () => r()));
  const received: Buffer[] = [];
  let theirPort = 0;
  socket.on('message', (m, rinfo) => {
    received.push(m);
    theirPort = rinfo.port;
  });
  const ping = spawn('ip', ['netns', 'exec', there.name, 'ping', '-c', '3', '-i', '0.3', '10.42.0.1'], {
    stdio: 'ignore',
  });
  const wait = async (predicate: () => boolean) => {
    for (let i = 0; i < 100 && !predicate(); i++) await new Promise((r) => setTimeout(r, 50));
    if (!predicate()) throw new Error('timed out waiting for wireguard-go');
  };
  await wait(() => received.some((m) => m[0] === 1));
  const initiation = received.find((m) => m[0] === 1) as Buffer;
  if (!new MacReceiver(identity.publicKey, 0).mac1Valid(initiation))
    throw new Error('MAC1 of the captured initiation does not verify');
  const consumed = consumeInitiation(identity, initiation);
  if (!consumed) throw new Error('cannot consume the captured initiation');
  const response = createResponse(consumed, undefined, 0x01020304, random);
  if (!response) throw new Error('cannot respond');
  new MacSender(consumed.remoteStatic).seal(response.message, 0);
  socket.send(response.message, theirPort, '10.41.0.2'); // back to the port it sent from
  await wait(() => received.some((m) => m[0] === 4));
  const transport = received.find((m) => m[0] === 4) as Buffer;
  // Phase 2, cookies: flood wireguard-go with valid-MAC1 initiations until it is under load and
  // answers with cookie replies; then send one initiation whose MAC2 uses that cookie, and record
  // its response (accepted only if our MAC2 is right).
  const theirPublic = consumed.remoteStatic;
  const initiatorRandom = deterministicRandom(`${seed} / cookie`);
  const sender = new MacSender(theirPublic);
  const initiations = new Map<number, Uint8Array>();
  for (let i = 0; i < 4000; i++) {
    const index = 0x10000 + i;
    const created = createInitiation(identity, theirPublic, undefined, index, Date.now(), initiatorRandom);
    if (!created) throw new Error('initiation');
    sender.seal(created.message, 0);
    initiations.set(index, created.message);
    socket.send(created.message, theirPort, '10.41.0.2');
    if (i % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  await wait(() => received.some((m) => m[0] === 3));
  const cookieReply = received.find((m) => m[0] === 3) as Buffer;
  const answered = initiations.get(cookieReply.readUInt32LE(4)) as Uint8Array;
  const cookieKey = new MacState(theirPublic).cookieKey;
  const cookie = xaeadOpen(
    cookieKey,
    cookieReply.subarray(8, 32),
    cookieReply.subarray(32, 64),
    answered.subarray(116, 132),
  );
  if (!cookie) throw new Error('the cookie reply does not decrypt');
  // While it is still under load (1 s), an initiation with MAC2 from that cookie.
  const seededInitiation = deterministicRandom(`${seed} / mac2`);
  const withMac2 = createInitiation(identity, theirPublic, undefined, 0x0a0b0c0d, Date.now() + 1000, seededInitiation);
  if (!withMac2) throw new Error('initiation');
  withMac2.message.set(mac(new MacState(theirPublic).mac1Key, withMac2.message.subarray(0, 116)), 116);
  withMac2.message.set(mac(cookie, withMac2.message.subarray(0, 132)), 132);
  const before = received.length;
  socket.send(withMac2.message, theirPort, '10.41.0.2');
  await wait(() => received.slice(before).some((m) => m[0] === 2 && m.readUInt32LE(8) === 0x0a0b0c0d));
  const mac2Response = received.slice(before).find((m) => m[0] === 2 && m.readUInt32LE(8) === 0x0a0b0c0d) as Buffer;

  const fixture = {
    about: 'Captured from Debian wireguard-go by test/capture-fixtures.ts; keys generated for this capture only.',
    wireguardGoPrivateKey: formatKey(theirKey),
    tunkitPrivateKey: formatKey(ourKey),
    responderSeed: seed,
    responderIndex: 0x01020304,
    initiation: initiation.toString('hex'),
    response: Buffer.from(response.message).toString('hex'),
    transport: transport.toString('hex'),
    innerSource: '10.42.0.2',
    innerDestination: '10.42.0.1',
    cookieReply: cookieReply.toString('hex'),
    cookieAnswers: Buffer.from(answered).toString('hex'),
    mac2Initiation: Buffer.from(withMac2.message).toString('hex'),
    mac2InitiationSeed: `${seed} / mac2`,
    mac2Response: mac2Response.toString('hex'),
  };
  const out = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'wireguard-go-handshake.json');
  writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
  console.log(`wrote ${out}`);
  ping.kill();
  socket.close();
} finally {
  wireguardGo?.stop();
  here.destroy();
  there.destroy();
}
