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
import { MacReceiver, MacSender } from '../src/protocol/cookie.js';
import { consumeInitiation, createResponse } from '../src/protocol/handshake.js';
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
