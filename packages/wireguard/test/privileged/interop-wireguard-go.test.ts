// Interop with the reference implementation: a tunkit Device on a real Linux TUN in one namespace,
// Debian's wireguard-go (configured with wg) in another, joined by a veth pair. Each side
// initiates once; ping both ways; a 20 MB TCP transfer arrives with the same sha256 while
// shortened timers make tunkit rekey; `wg show` reads tunkit's UAPI socket. All of it twice: with
// transport data sealed and opened on the JS thread (node:dgram's UdpBind), and in the native data
// plane (LinuxUdpBind: the TUN queue threads seal, the UDP receive thread opens).
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createNamespace, privilegedSuite, type TestNamespace, vethPair } from '@tunkit/tun-core/testing';
import { enterNetworkNamespace, openTun } from '@tunkit/tun-linux';
import type { Bind } from '../../src/bind/bind.js';
import { LinuxUdpBind } from '../../src/bind/linux-udp-bind.js';
import { UdpBind } from '../../src/bind/udp-bind.js';
import { Device } from '../../src/device/device.js';
import { formatKey, generatePrivateKey, publicKeyFrom } from '../../src/protocol/keys.js';
import { UapiServer } from '../../src/uapi/uapi-server.js';
import { startWireguardGo, type WireguardGo } from '../wireguard-go.js';

const execFileAsync = promisify(execFile);
/** Runs a command with a deadline, so a stuck peer fails the test instead of hanging CI. */
const run = (command: string, args: string[]) => execFileAsync(command, args, { timeout: 20_000 });
const haveTools = ['wireguard-go', 'wg'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
const suite = privilegedSuite(
  'wireguard interop with wireguard-go',
  haveTools ? undefined : 'wireguard-go and wg are not installed (apt-get install wireguard-go wireguard-tools)',
);

const PLANES = [
  { plane: 'js', bind: 'node:dgram UdpBind', tag: 'j' },
  { plane: 'native', bind: 'LinuxUdpBind', tag: 'n' },
] as const;

for (const { plane, bind: bindName, tag } of PLANES) {
  const id = process.pid % 10000;
  const ourName = `tkw${tag}${id}`; // UAPI socket names are global: make them unique
  const theirName = `wgo${tag}${id}`;
  const ourKey = generatePrivateKey();
  let theirPublic: Uint8Array;
  let here: TestNamespace;
  let there: TestNamespace;
  let device: Device | undefined;
  let uapi: UapiServer | undefined;
  let wireguardGo: WireguardGo | undefined;

  async function startDevice(
    timers: { rekeyAfterTime?: number; rekeyTimeout?: number } = {},
    trace = false,
  ): Promise<Device> {
    await stopDevice(); // one device at a time: the previous test's, if any, goes first
    const tun = await openTun({ name: ourName, queues: 2, addresses: ['10.32.0.1/24'] });
    const options = { address: '10.31.0.1', ipv6: false, port: 51820 };
    const open = (port: number): Promise<Bind> =>
      plane === 'native' ? LinuxUdpBind.open({ ...options, port }) : UdpBind.open({ ...options, port });
    const bind = await open(options.port);
    const d = new Device({
      tun,
      bind,
      privateKey: ourKey,
      timers,
      trace,
      rebind: async (port, adopt) => adopt(await open(port)),
    });
    d.addPeer({ publicKey: theirPublic, endpoint: { address: '10.31.0.2', port: 51821 } }, ['10.32.0.2/32']);
    d.start();
    assert.equal(
      d.dataPlane.running,
      plane,
      `transport data runs in the ${plane} data plane (${d.dataPlane.unavailable ?? ''})`,
    );
    uapi = await UapiServer.listen({ name: ourName, handler: d.uapiHandler });
    return d;
  }

  async function stopDevice(): Promise<void> {
    await uapi?.close();
    await device?.close();
    uapi = undefined;
    device = undefined;
  }

  describe(`WireGuard interop with wireguard-go, ${plane} data plane (${bindName})`, {
    skip: suite.skip,
    timeout: 180_000,
  }, () => {
    before(async () => {
      here = createNamespace('wgA');
      there = createNamespace('wgB');
      vethPair(here, 'va', '10.31.0.1/24', there, 'vb', '10.31.0.2/24');
      const theirKey = generatePrivateKey();
      theirPublic = publicKeyFrom(theirKey);
      wireguardGo = await startWireguardGo(
        there,
        theirName,
        theirKey,
        [
          'listen-port',
          '51821',
          'peer',
          formatKey(publicKeyFrom(ourKey)),
          'endpoint',
          '10.31.0.1:51820',
          'allowed-ips',
          '10.32.0.1/32',
        ],
        '10.32.0.2/24',
      );
      enterNetworkNamespace(here.name);
    });

    after(async () => {
      await stopDevice();
      wireguardGo?.stop();
      here?.destroy();
      there?.destroy();
    });

    it('wireguard-go initiates: ping from its side reaches the kernel behind tunkit', { timeout: 30_000 }, async () => {
      device = await startDevice();
      try {
        const { stdout } = await run('ip', [
          'netns',
          'exec',
          there.name,
          'ping',
          '-c',
          '3',
          '-i',
          '0.2',
          '-W',
          '3',
          '10.32.0.1',
        ]);
        assert.match(stdout, /3 packets transmitted, 3 received/);
        assert.equal(device.engine.counters.handshakesAnswered >= 1, true, 'tunkit answered the handshake');
      } finally {
        await stopDevice();
      }
    });

    it('tunkit initiates: ping from tunkit’s side; `wg show` and `wg set` work on tunkit’s UAPI socket', {
      timeout: 30_000,
    }, async () => {
      device = await startDevice();
      try {
        const { stdout } = await run('ping', ['-c', '3', '-i', '0.2', '-W', '3', '10.32.0.2']);
        assert.match(stdout, /3 packets transmitted, 3 received/);
        assert.ok(device.engine.counters.handshakesCompleted >= 1, 'tunkit completed a handshake as initiator');
        const dump = (await run('wg', ['show', ourName, 'dump'])).stdout.trim().split('\n');
        const [, peerLine] = dump;
        const fields = peerLine?.split('\t') ?? [];
        assert.equal(fields[0], formatKey(theirPublic));
        assert.equal(fields[2], '10.31.0.2:51821');
        assert.equal(fields[3], '10.32.0.2/32');
        const lastHandshake = Number(fields[4]);
        assert.ok(Math.abs(Date.now() / 1000 - lastHandshake) < 60, `latest handshake ${lastHandshake}`);
        assert.ok(Number(fields[5]) > 0 && Number(fields[6]) > 0, 'transfer counters');
        // And `wg set` changes the running device through the same socket.
        const extra = formatKey(publicKeyFrom(generatePrivateKey()));
        await run('wg', ['set', ourName, 'peer', extra, 'allowed-ips', '10.33.0.0/16', 'persistent-keepalive', '25']);
        const shown = (await run('wg', ['show', ourName, 'allowed-ips'])).stdout;
        assert.match(shown, new RegExp(`${extra.replace(/[+/]/g, '\\$&')}\t10.33.0.0/16`));
        await run('wg', ['set', ourName, 'peer', extra, 'remove']);
        assert.doesNotMatch(
          (await run('wg', ['show', ourName, 'peers'])).stdout,
          new RegExp(extra.replace(/[+/]/g, '\\$&')),
        );
      } finally {
        await stopDevice();
      }
    });

    it('traces each batch of a ping’s path, in order, with the data plane that carried it', {
      timeout: 30_000,
    }, async () => {
      device = await startDevice({}, true);
      try {
        await run('ping', ['-c', '3', '-i', '0.2', '-W', '3', '10.32.0.2']);
        const events = device.traceEvents();
        for (const direction of ['tun→udp', 'udp→tun']) {
          const hop = events.filter((e) => e.kind === `${direction} ${plane}`);
          // The first request waits for the handshake and goes out from the Engine's staging queue.
          assert.ok(hop.length >= 2, `${hop.length} ${direction} batches traced`);
          for (const e of hop) {
            assert.ok(
              e.start <= e.crypto && e.crypto <= e.done,
              `${direction}: taken, then sealed or opened, then passed on`,
            );
            if (e.readyAt > 0) assert.ok(e.readyAt <= e.start + 1000, `${direction}: ready before taken`);
          }
          // Natively, a received datagram carries the kernel's receive time.
          if (plane === 'native' && direction === 'udp→tun') assert.ok(hop.every((e) => e.readyAt > 0));
        }
      } finally {
        await stopDevice();
      }
      device = await startDevice();
      try {
        await run('ping', ['-c', '1', '-W', '3', '10.32.0.2']);
        assert.deepEqual(device.traceEvents(), [], 'nothing recorded when not tracing');
      } finally {
        await stopDevice();
      }
    });

    it('`wg set listen-port` moves tunkit’s socket: the session goes on, nothing replayed or refused', {
      timeout: 30_000,
    }, async () => {
      device = await startDevice();
      try {
        const ping = async () =>
          (await run('ping', ['-c', '5', '-i', '0.1', '-W', '3', '10.32.0.2'])).stdout.match(/(\d+) received/)?.[1];
        assert.equal(await ping(), '5');
        const handshakes = device.engine.counters.handshakesCompleted;
        await run('wg', ['set', ourName, 'listen-port', '51830']);
        assert.equal(device.listenPort, 51830);
        assert.equal(device.dataPlane.running, plane, 'the data plane moved with the socket');
        assert.equal(await ping(), '5');
        assert.equal(device.engine.counters.handshakesCompleted, handshakes, 'the same session, no new handshake');
        for (const reason of ['replayed', 'decrypt-failed', 'unknown-index'] as const) {
          assert.equal(device.engine.drops[reason], 0, reason);
        }
      } finally {
        await stopDevice();
      }
    });

    it('a 20 MB TCP transfer arrives intact while tunkit rekeys', { timeout: 60_000 }, async () => {
      // Shortened timers (rekey every second; initiations may repeat after 300 ms) so the transfer spans rekeys.
      device = await startDevice({ rekeyAfterTime: 1000, rekeyTimeout: 300 });
      const server = spawn(
        'ip',
        [
          'netns',
          'exec',
          there.name,
          process.execPath,
          '-e',
          `
        const h = require('node:crypto').createHash('sha256'); let n = 0;
        require('node:net').createServer((s) => { s.on('data', (d) => { h.update(d); n += d.length; }); s.on('end', () => { console.log(n + ' ' + h.digest('hex')); process.exit(0); }); })
          .listen(5555, '10.32.0.2', () => console.log('listening'));`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let output = '';
      server.stdout.on('data', (d) => {
        output += d;
      });
      for (let i = 0; i < 100 && !output.includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
      const data = randomBytes(20 * 1024 * 1024);
      const expected = createHash('sha256').update(data).digest('hex');
      const handshakesBefore = device.engine.counters.handshakesCompleted;
      const socket = connect(5555, '10.32.0.2');
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => {
            // Trickle in chunks so the transfer spans a few rekey intervals.
            let at = 0;
            const pump = () => {
              if (at >= data.length) return socket.end(() => resolve());
              const chunk = data.subarray(at, at + 1024 * 1024);
              at += chunk.length;
              socket.write(chunk, () => setTimeout(pump, 150));
            };
            pump();
          });
          socket.on('error', reject);
        });
        await new Promise<void>((resolve) => server.once('exit', () => resolve()));
      } finally {
        // Not a graceful close: once the tunnel is torn down a pending FIN would keep this
        // process alive for minutes.
        socket.destroy();
        server.kill();
      }
      const [bytes, digest] =
        output
          .split('\n')
          .filter((l) => l && l !== 'listening')[0]
          ?.split(' ') ?? [];
      assert.equal(Number(bytes), data.length);
      assert.equal(digest, expected);
      assert.ok(
        device.engine.counters.handshakesCompleted - handshakesBefore >= 2,
        'tunkit rekeyed during the transfer',
      );
      const drops = Object.entries(device.engine.drops).filter(([, n]) => n > 0);
      assert.deepEqual(
        drops.filter(([r]) => r !== 'no-route'),
        [],
        'no unexpected drops',
      );
    });

    it('a 5 MB TCP transfer from wireguard-go’s side arrives intact (full-MTU packets into tunkit)', {
      timeout: 60_000,
    }, async () => {
      device = await startDevice();
      // wireguard-go still holds the session of the device the previous test closed; a packet from
      // our side makes a fresh handshake now instead of after its KEEPALIVE + REKEY timeout.
      await run('ping', ['-c', '1', '-W', '3', '10.32.0.2']);
      const data = randomBytes(5 * 1024 * 1024);
      const expected = createHash('sha256').update(data).digest('hex');
      const received = createHash('sha256');
      let bytes = 0;
      const accepted = new Set<import('node:net').Socket>();
      const server = createServer((socket) => {
        accepted.add(socket);
        socket.on('data', (chunk) => {
          received.update(chunk);
          bytes += chunk.length;
        });
      });
      await new Promise<void>((resolve) => server.listen(5556, '10.32.0.1', () => resolve()));
      const sender = spawn(
        'ip',
        [
          'netns',
          'exec',
          there.name,
          process.execPath,
          '-e',
          `
        const s = require('node:net').connect(5556, '10.32.0.1', () => { process.stdin.pipe(s); });
        s.on('close', () => process.exit(0));`,
        ],
        { stdio: ['pipe', 'ignore', 'inherit'] },
      );
      try {
        sender.stdin.end(data);
        const deadline = Date.now() + 30_000;
        while (bytes < data.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.equal(bytes, data.length);
        assert.equal(received.digest('hex'), expected);
        assert.equal(device.engine.drops.malformed, 0);
      } finally {
        sender.kill();
        for (const socket of accepted) socket.destroy(); // no graceful close: the tunnel goes away next
        server.close();
      }
    });
  });
}
