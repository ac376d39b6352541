// tunkit-headless ↔ tunkit-gateway in the lab (client — gateway — server namespaces): ping, a
// 50 MB TCP transfer with identical sha256, UDP, IPv6 inside the tunnel, forwarding to the server
// namespace with masquerade, `wg show`, metrics without keys; then SIGTERM leaves nothing behind.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkoutView, privilegedSuite } from '@tunkit/tun-core/testing';
import {
  appMain,
  createLab,
  type Daemon,
  type Lab,
  nodeIn,
  nodeServer,
  ROOT,
  startDaemon,
  TUNNEL,
  tunnelConfigs,
  UDP_CLIENT,
  UDP_ECHO,
  writeConfigs,
} from './lab.js';

const { skip } = privilegedSuite('tunkit-gateway and tunkit-headless in the lab');
const id = process.pid % 10000;
const names = { gateway: `tkg${id}`, client: `tkc${id}` };
const METRICS = '127.0.0.1:9586';
// The unprivileged runs below use the checkout through a view user nobody can reach.
const view = checkoutView(ROOT);

describe('tunkit-headless ↔ tunkit-gateway', { skip }, () => {
  let lab: Lab;
  let files: ReturnType<typeof writeConfigs>;
  let gateway: Daemon;
  let client: Daemon;
  let keys: ReturnType<typeof tunnelConfigs>;

  before(async () => {
    lab = createLab();
    keys = tunnelConfigs();
    files = writeConfigs({ [names.gateway]: keys.gatewayText, [names.client]: keys.clientText }, lab);
    // The gateway's --forward must turn forwarding on (and back off), and only its masquerade
    // may let the server answer: the server gets no route back to the tunnel.
    lab.exec('gateway', 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
    lab.exec('server', 'ip', ['route', 'del', '10.0.0.0/8']);
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway] as string, [
      '--forward',
      '--masquerade',
      'g1',
      '--metrics-listen',
      METRICS,
    ]);
    await gateway.waitForLog('gateway up');
    client = startDaemon(lab, 'client', 'headless', files.paths[names.client] as string);
    await client.waitForLog('headless up');
    await client.waitForLog('handshake completed'); // PersistentKeepalive starts it
  });

  after(async () => {
    await client?.stop('SIGTERM');
    await gateway?.stop('SIGTERM');
    lab?.destroy(); // also removes the config files
  });

  it('carries ping both ways, IPv4 and IPv6 inside the tunnel', () => {
    assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
    assert.match(lab.exec('gateway', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.client]), / 0% packet loss/);
    assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway6]), / 0% packet loss/);
  });

  it('moves 50 MB over TCP with an identical sha256', async () => {
    const file = join(tmpdir(), `tunkit-50mb-${id}`);
    const expected = createHash('sha256');
    const out = createWriteStream(file);
    for (let i = 0; i < 50; i++) {
      const chunk = randomBytes(1 << 20);
      expected.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));
    const receiver = lab.spawn(
      'gateway',
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createServer } from 'node:net'; import { createHash } from 'node:crypto';
         const server = createServer((s) => { const h = createHash('sha256'); let n = 0;
           s.on('data', (d) => { h.update(d); n += d.length; });
           s.on('end', () => { console.log(JSON.stringify({ bytes: n, sha256: h.digest('hex') })); server.close(); }); });
         server.listen(5001, '${TUNNEL.gateway}', () => console.log('ready'));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines: string[] = [];
    const result = new Promise<string>((resolve) => {
      receiver.stdout?.on('data', (d) => {
        lines.push(...String(d).trim().split('\n'));
        const last = lines.at(-1) as string;
        if (last.startsWith('{')) resolve(last);
      });
    });
    await new Promise<void>((resolve) => receiver.stdout?.once('data', () => resolve()));
    try {
      nodeIn(
        lab,
        'client',
        `import { connect } from 'node:net'; import { createReadStream } from 'node:fs';
         const s = connect(5001, '${TUNNEL.gateway}', () => createReadStream('${file}').pipe(s));`,
      );
      const received = JSON.parse(await result);
      assert.equal(received.bytes, 50 << 20);
      assert.equal(received.sha256, expected.digest('hex'));
    } finally {
      receiver.kill();
      rmSync(file, { force: true });
    }
  });

  it('carries UDP: 200 datagrams of 1,000 bytes echoed back in order', async () => {
    const echo = await nodeServer(lab, 'gateway', UDP_ECHO(TUNNEL.gateway, 5002));
    try {
      const result = JSON.parse(nodeIn(lab, 'client', UDP_CLIENT(TUNNEL.gateway, 5002, 200, 1000)));
      assert.equal(result.received, 200);
      assert.equal(result.from, TUNNEL.client, 'the gateway sees the tunnel address itself');
    } finally {
      echo.kill();
    }
  });

  it('forwards to the server namespace with --forward and --masquerade', async () => {
    assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '1');
    const echo = await nodeServer(lab, 'server', UDP_ECHO(lab.addresses.server as string, 5003));
    try {
      const result = JSON.parse(nodeIn(lab, 'client', UDP_CLIENT(lab.addresses.server as string, 5003, 20, 500)));
      assert.equal(result.received, 20);
      assert.equal(result.from, lab.addresses.gatewayServerSide, 'the server sees the gateway (masquerade)');
      assert.match(
        lab.exec('client', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', lab.addresses.server as string]),
        / 0% packet loss/,
      );
    } finally {
      echo.kill();
    }
  });

  it('answers `wg show` on its UAPI socket and serves metrics without keys', async () => {
    const shown = lab.exec('gateway', 'wg', ['show', names.gateway]);
    assert.ok(shown.includes(`peer: ${keys.client.publicKey}`), shown);
    assert.match(shown, /latest handshake: .* ago/);
    assert.match(shown, /listening port: 51820/);
    const metrics = nodeIn(
      lab,
      'gateway',
      `const r = await fetch('http://${METRICS}/metrics'); console.log(r.status); console.log(await r.text());`,
    );
    assert.match(metrics, /^200\n/);
    assert.match(metrics, /tunkit_wireguard_handshakes_total\{kind="answered"\} [1-9]/);
    assert.match(metrics, /tunkit_tun_rx_packets_total\{queue="0"\} \d+/);
    assert.match(metrics, /^tunkit_tun_rx_dropped_total\{queue="0"\} \d+$/m);
    assert.match(metrics, /tunkit_peer_last_handshake_seconds\{peer="10\.99\.0\.2\/32"\} 1\d{9}/);
    assert.match(metrics, /tunkit_event_loop_lag_seconds\{quantile="0.99"\}/);
    // Offload is on by default: the 50 MB upload reached the gateway's TUN as coalesced super-packets.
    const counter = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
    const packetsWritten = [...metrics.matchAll(/^tunkit_tun_tx_packets_total\{queue="\d+"\} (\d+)$/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    assert.ok(packetsWritten > 30_000, `packets written: ${packetsWritten}`);
    assert.ok(
      counter('tunkit_tun_tx_frames_total') < packetsWritten / 4,
      `frames ${counter('tunkit_tun_tx_frames_total')} for ${packetsWritten} packets`,
    );
    assert.ok(
      gateway.logs.some((l) => l.msg === 'gateway up' && (l.offload as { tso?: boolean })?.tso === true),
      'TSO accepted',
    );
    // The "up" line names the backends in use: from the workspace the AEAD addon is built, and the
    // native Linux UDP bind is the default.
    const up = gateway.logs.find((l) => l.msg === 'gateway up');
    assert.match(String(up?.aead), /^native \(OpenSSL /, `aead in the up line: ${up?.aead}`);
    assert.equal(up?.udpBind, 'native');
    for (const key of [
      keys.client.publicKey,
      keys.gateway.publicKey,
      keys.gateway.privateKey,
      keys.client.privateKey,
    ]) {
      assert.ok(!metrics.includes(key), 'no key in metrics');
    }
    const logs = JSON.stringify(gateway.logs) + JSON.stringify(client.logs);
    for (const key of [
      keys.gateway.privateKey,
      keys.client.privateKey,
      keys.gateway.publicKey,
      keys.client.publicKey,
    ]) {
      assert.ok(!logs.includes(key), 'no key in logs');
    }
  });

  it('stops with one line when its UDP port is taken, leaving no device behind', async () => {
    const second = writeConfigs({ [`tkx${id}`]: keys.gatewayText });
    try {
      const other = startDaemon(lab, 'gateway', 'gateway', second.paths[`tkx${id}`] as string);
      assert.equal(await other.exited, 1);
      assert.equal(
        other.stderr.trim(),
        'tunkit-gateway: UDP port 51820 is in use by another process: pick another with --listen-port or ListenPort=',
      );
      assert.ok(!lab.exec('gateway', 'ip', ['link']).includes(`tkx${id}`), 'the device it opened is closed again');
    } finally {
      second.remove();
    }
  });

  it('says which privilege is missing when run without CAP_NET_ADMIN', async () => {
    const dir = writeConfigs({ [`tkn${id}`]: keys.clientText });
    try {
      const path = dir.paths[`tkn${id}`] as string;
      lab.exec('client', 'chown', ['-R', 'nobody', dir.dir]);
      const [command, args] = view.wrap('setpriv', [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        process.execPath,
        view.path(appMain('headless')),
        '--config',
        path,
      ]);
      const child = lab.spawn('client', command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d) => {
        stderr += d;
      });
      const code = await new Promise((resolve) => child.once('exit', resolve));
      assert.equal(code, 1);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.match(stderr, /^tunkit-headless: .*(CAP_NET_ADMIN|root)/);
    } finally {
      dir.remove();
    }
  });

  it('as a non-root user with CAP_NET_ADMIN (setcap), says in one line what to do about /run/tunkit and the UAPI socket', async () => {
    // In the server namespace: no other daemon there whose rules this one could share.
    const name = `tkp${id}`;
    const dir = writeConfigs({ [name]: keys.clientText });
    const state = join(dir.dir, 'state');
    // Debian's /dev/net/tun is 0666 (CAP_NET_ADMIN is then all it takes); some containers make it
    // 0600. The daemon gets a 0666 node of its own, bind-mounted in a private mount namespace:
    // the host's node is not touched.
    const tunNode = join(dir.dir, 'tun');
    try {
      lab.exec('server', 'mkdir', ['-p', state]);
      lab.exec('server', 'mknod', ['-m', '0666', tunNode, 'c', '10', '200']);
      lab.exec('server', 'chown', ['-R', 'nobody', dir.dir]);
      const runAsNobody = async (args: string[], env: Record<string, string> = {}) => {
        const [command, wrapped] = view.wrap(
          'setpriv',
          [
            '--reuid=65534',
            '--regid=65534',
            '--clear-groups',
            '--inh-caps=+net_admin',
            '--ambient-caps=+net_admin',
            process.execPath,
            view.path(appMain('headless')),
            '--config',
            dir.paths[name] as string,
            '--log-format',
            'json',
            ...args,
          ],
          { binds: [[tunNode, '/dev/net/tun']] },
        );
        const child = lab.spawn('server', command, wrapped, {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, ...env },
        });
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (d) => {
          const up = stdout.includes('"headless up"');
          stdout += d;
          if (!up && stdout.includes('"headless up"')) child.kill('SIGTERM');
        });
        child.stderr?.on('data', (d) => {
          stderr += d;
        });
        const code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? signal)));
        return { code, stdout, stderr: stderr.trim() };
      };
      const journal = await runAsNobody([]);
      assert.equal(journal.code, 1, journal.stdout);
      assert.equal(
        journal.stderr,
        `tunkit-headless: cannot write the cleanup journal /run/tunkit/${name}.json (permission denied): run as root, or create /run/tunkit writable by this user, or point TUNKIT_STATE_DIR at a directory it can write`,
      );
      const uapi = await runAsNobody([], { TUNKIT_STATE_DIR: state });
      assert.equal(uapi.code, 1, uapi.stdout);
      assert.equal(uapi.stderr.split('\n').length, 1, uapi.stderr);
      assert.match(
        uapi.stderr,
        new RegExp(
          `^tunkit-headless: cannot create the UAPI socket /var/run/wireguard/${name}\\.sock \\(permission denied\\): run as root, .*--no-uapi`,
        ),
      );
      const running = await runAsNobody(['--no-uapi'], { TUNKIT_STATE_DIR: state });
      assert.equal(running.code, 0, `${running.stderr}\n${running.stdout}`);
      assert.match(running.stdout, /"headless up"/);
      assert.doesNotMatch(lab.exec('server', 'ip', ['rule']), /sport|suppress_prefixlength/, 'its rules are undone');
      assert.ok(!lab.exec('server', 'ip', ['link']).includes(name));
    } finally {
      dir.remove();
    }
  });

  it('on SIGTERM exits 0 within 2 s and leaves no route, address, rule, nft table, device or changed sysctl', async () => {
    const routesBefore = lab.exec('client', 'ip', ['route', 'show', 'table', '51820']);
    assert.match(routesBefore, new RegExp(`10\\.88\\.2\\.0/24 dev ${names.client}`));
    const started = performance.now();
    const [clientCode, gatewayCode] = await Promise.all([client.stop('SIGTERM'), gateway.stop('SIGTERM')]);
    const took = performance.now() - started;
    assert.equal(clientCode, 0);
    assert.equal(gatewayCode, 0);
    assert.ok(took < 2000, `stopped in ${Math.round(took)} ms`);
    for (const where of ['client', 'gateway']) {
      const name = where === 'client' ? names.client : names.gateway;
      assert.ok(!lab.exec(where, 'ip', ['link']).includes(name), `${name} is gone`);
      assert.ok(!lab.exec(where, 'ip', ['route']).includes(name));
      assert.ok(!lab.exec(where, 'ip', ['-6', 'route']).includes(name));
      assert.ok(!lab.exec(where, 'ip', ['addr']).includes('10.99.0.'));
      for (const family of ['-4', '-6']) {
        const rules = lab.exec(where, 'ip', [family, 'rule']);
        assert.doesNotMatch(rules, /sport|suppress_prefixlength|lookup 5182\d/, `${where} ${family}: ${rules}`);
      }
      assert.equal(lab.exec(where, 'ip', ['route', 'show', 'table', '51820']).trim(), '');
    }
    assert.equal(lab.exec('gateway', 'nft', ['list', 'tables']).trim(), '');
    assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '0', 'forwarding restored');
  });
});
