// Runs with a Node.js of another platform against the workspace's built JavaScript and, with
// PREBUILDS_ONLY=1, the prebuilds node-gyp-build really picks there: an arm64 Node.js under
// qemu-user-static (scripts/test/prebuilds-arm64.test.ts), a Windows one under Wine
// (scripts/test/prebuilds-wine.test.ts). Writes one JSON line of what it saw to stdout, or to
// <out> (Wine's stdout to a pipe fails in Node).
// Usage: node prebuild-smoke.mjs <checkout root> [tun|-] [out]   ("tun": also open a real Linux TUN;
// needs root and a network namespace of its own, which the test gives it).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, withTun, out] = process.argv.slice(2);
const load = (path) => import(pathToFileURL(join(root, path)).href);
const result = { arch: process.arch, node: process.version };

const wg = await load('packages/wireguard/dist/index.js');
// tun-core as wireguard itself resolves it (through its node_modules link): one module instance,
// so a PacketBatch made here is the PacketBatch wireguard knows (Wine does not resolve the link
// to the same path as the checkout's own packages/tun-core).
const coreDir = dirname(
  createRequire(join(root, 'packages/wireguard/package.json')).resolve('@tunkit/tun-core/package.json'),
);
const core = await import(pathToFileURL(join(coreDir, 'dist/index.js')).href);
const coreTesting = await import(pathToFileURL(join(coreDir, 'dist/testing/index.js')).href);

// Which file node-gyp-build loads for each addon.
const resolveAddon = (pkg) =>
  createRequire(join(root, pkg, 'package.json'))('node-gyp-build').resolve(join(root, pkg, 'native'));
result.wireguardAddon = resolveAddon('packages/wireguard');
if (process.platform === 'linux') result.tunLinuxAddon = resolveAddon('packages/tun-linux');

// The AEAD: the native backend seals, node:crypto opens (and the other way round), so the addon
// computes real ChaCha20-Poly1305, not just something it can undo itself.
const aead = wg.defaultAead();
result.aead = aead.name;
const key = new Uint8Array(32).map((_, i) => i * 7);
const roundTrip = (sealer, opener) => {
  const buffer = new Uint8Array(3 * 1500);
  const jobs = new wg.AeadJobs(3);
  const plain = [];
  for (let i = 0; i < 3; i++) {
    const body = new Uint8Array(100 + 600 * i).map((_, j) => (j * 31 + i) & 0xff);
    buffer.set(body, i * 1500);
    plain.push(body);
    jobs.add(key, 1000 + i, i * 1500, body.length);
  }
  sealer.seal(buffer, jobs);
  const sealedDiffers = plain.every(
    (body, i) => Buffer.compare(buffer.subarray(i * 1500, i * 1500 + body.length), body) !== 0,
  );
  buffer[1500 + 5] ^= 1; // corrupt job 1
  const opened = opener.open(buffer, jobs);
  const intact = [0, 2].every(
    (i) => Buffer.compare(buffer.subarray(i * 1500, i * 1500 + plain[i].length), plain[i]) === 0,
  );
  return { sealedDiffers, opened, ok: [...jobs.ok.subarray(0, 3)], intact };
};
result.nativeSealsNodeOpens = roundTrip(aead, wg.nodeCryptoAead);
result.nodeSealsNativeOpens = roundTrip(wg.nodeCryptoAead, aead);

// Two Devices over MemoryTun pairs and an in-memory network: handshake, then 200 packets through
// the native AEAD, in batches.
const network = new wg.MemoryNetwork();
const make = (address) => {
  const [tun, host] = core.MemoryTun.pair({ mtu: 1420 });
  const privateKey = wg.generatePrivateKey();
  const device = new wg.Device({ tun, bind: network.bind(address, 51820), privateKey, tickInterval: 20 });
  return { device, host, publicKey: wg.publicKeyFrom(privateKey) };
};
const a = make('10.0.0.1');
const b = make('10.0.0.2');
a.device.addPeer({ publicKey: b.publicKey, endpoint: { address: '10.0.0.2', port: 51820 } }, ['10.9.0.2/32']);
b.device.addPeer({ publicKey: a.publicKey }, ['10.9.0.1/32']);
a.device.start();
b.device.start();
const received = [];
const batch = new core.PacketBatch();
const deadline = Date.now() + 60_000;
a.host.send(coreTesting.sequencePacket(0, 200, [10, 9, 0, 1], [10, 9, 0, 2]));
let sent = 1;
while (received.length < 200 && Date.now() < deadline) {
  while (
    sent < 200 &&
    received.length > 0 &&
    a.host.send(coreTesting.sequencePacket(sent, 200, [10, 9, 0, 1], [10, 9, 0, 2]))
  )
    sent++;
  const n = await Promise.race([b.host.recvMany(batch), new Promise((r) => setTimeout(() => r(-1), 5000))]);
  if (n <= 0) break;
  for (const p of batch) received.push(coreTesting.readSequence(p));
}
result.devicePackets = received.length;
result.devicePacketsInOrder = received.every((s, i) => s === i);
await a.device.close();
await b.device.close();

if (withTun === 'tun') {
  // A real TUN through qemu's ioctl and netlink translation: open, configure, and read a datagram
  // the kernel routes into it.
  const linux = await load('packages/tun-linux/dist/index.js');
  const dgram = await import('node:dgram');
  try {
    const tun = await linux.openTun({ name: 'tkarm0', queues: 2, addresses: ['10.99.0.1/24'] });
    const socket = dgram.createSocket('udp4');
    socket.send(Buffer.from('through qemu'), 9, '10.99.0.2');
    // The kernel also sends its own packets (IPv6 router solicitations) once the link is up.
    const tunBatch = new core.PacketBatch();
    const tunDeadline = Date.now() + 10_000;
    let received = 0;
    let udpPayloadSeen = false;
    while (!udpPayloadSeen && Date.now() < tunDeadline) {
      const n = await Promise.race([tun.recvMany(tunBatch), new Promise((r) => setTimeout(() => r(-1), 10_000))]);
      if (n <= 0) break;
      received += n;
      udpPayloadSeen = [...tunBatch].some((p) => Buffer.from(p).includes(Buffer.from('through qemu')));
    }
    result.tun = { name: tun.name, received, udpPayloadSeen };
    socket.close();
    await tun.close();
  } catch (error) {
    result.tun = { error: `${error.name}: ${error.message}` };
  }
}
if (out) writeFileSync(out, `${JSON.stringify(result)}\n`);
else console.log(JSON.stringify(result));
