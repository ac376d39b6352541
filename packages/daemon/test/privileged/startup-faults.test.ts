// Every startup failure exits (issue 12): a fault injected after the first resources are held —
// the metrics port held by another process, a directory where the UAPI socket goes, the kernel
// refusing a route, nft missing, a name the TUN cannot take — prints one line, undoes what was
// done, and exits 1 within 2 s, leaving no device, rule, route, nft table, journal or socket.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import {
  createLab,
  exitAfterFailure,
  hostLeftovers,
  type Lab,
  nodeServer,
  startDaemon,
  TUNNEL,
  tunnelConfigs,
  writeConfigs,
} from './lab.js';

const { skip } = privilegedSuite('tunkit daemons: startup faults');
const id = process.pid % 10000;

describe('a start that fails part-way', { skip, timeout: 60_000 }, () => {
  let lab: Lab;
  let keys: ReturnType<typeof tunnelConfigs>;

  before(() => {
    lab = createLab();
    keys = tunnelConfigs();
    lab.exec('gateway', 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
  });

  after(() => lab?.destroy());

  /** Starts a gateway that forwards and masquerades (so it journals sysctls, rules and an nft table). */
  const gateway = (name: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    const files = writeConfigs({ [name]: keys.gatewayText }, lab);
    return startDaemon(
      lab,
      'gateway',
      'gateway',
      files.paths[name] as string,
      ['--forward', '--masquerade', 'g1', ...args],
      {
        env,
      },
    );
  };

  const assertCleanExit = async (daemon: ReturnType<typeof gateway>, where: string, name: string, line: RegExp) => {
    const { code, afterFailureMs } = await exitAfterFailure(daemon);
    assert.equal(code, 1, daemon.stderr);
    assert.equal(daemon.stderr.trim().split('\n').length, 1, daemon.stderr);
    assert.match(daemon.stderr.trim(), line);
    assert.ok(afterFailureMs < 2000, `exited ${Math.round(afterFailureMs)} ms after the failure`);
    assert.deepEqual(hostLeftovers(lab, where, name), []);
    assert.equal(lab.exec(where, 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '0', 'forwarding restored');
    const lingered = daemon.logs.filter((l) => l.msg === 'still running after the stop: exiting');
    assert.deepEqual(lingered, [], 'nothing was left open to keep the process alive');
  };

  it('the metrics port held by another process (the listener comes second, after the journal): nothing is left', {
    timeout: 15_000,
  }, async () => {
    const port = 19_000 + (id % 1000);
    const holder = await nodeServer(
      lab,
      'gateway',
      `import { createServer } from 'node:net';
       createServer().listen(${port}, '127.0.0.1', () => console.log('ready'));`,
    );
    try {
      const name = `tkfm${id}`;
      const daemon = gateway(name, ['--metrics-listen', `127.0.0.1:${port}`]);
      await assertCleanExit(
        daemon,
        'gateway',
        name,
        new RegExp(`^tunkit-gateway: --metrics-listen 127\\.0\\.0\\.1:${port} is in use by another process`),
      );
    } finally {
      holder.kill();
    }
  });

  it('a directory where the UAPI socket goes: refused in one line, the directory left alone', async () => {
    const name = `tkfu${id}`;
    const socketPath = `/var/run/wireguard/${name}.sock`;
    mkdirSync(socketPath, { recursive: true });
    try {
      const daemon = gateway(name);
      const { code, afterFailureMs } = await exitAfterFailure(daemon);
      assert.equal(code, 1, daemon.stderr);
      assert.match(
        daemon.stderr.trim(),
        /^tunkit-gateway: cannot create the UAPI socket .*: a directory is in its place/,
      );
      assert.equal(daemon.stderr.trim().split('\n').length, 1, daemon.stderr);
      assert.ok(afterFailureMs < 2000, `exited ${Math.round(afterFailureMs)} ms after the failure`);
      const left = hostLeftovers(lab, 'gateway', name);
      assert.deepEqual(left, [socketPath], 'only the directory that was there before');
      assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '0');
    } finally {
      rmSync(socketPath, { recursive: true, force: true });
    }
  });

  it('the kernel refusing a route (IPv6 disabled on new devices): the rules it added are removed', async () => {
    // Rules go in first (journalled), then routes: the IPv6 route is refused ("IPv6 is disabled on
    // nexthop device"), after the IPv4 and IPv6 rules and the IPv4 routes exist.
    const name = `tkfr${id}`;
    const client = tunnelConfigs({
      gatewayKeys: keys.gateway,
      clientAddress: [`${TUNNEL.client}/24`],
      clientAllowedIps: ['10.88.2.0/24', 'fd88:2::/64'],
    });
    const files = writeConfigs({ [name]: client.clientText }, lab);
    lab.exec('client', 'sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    try {
      const daemon = startDaemon(lab, 'client', 'headless', files.paths[name] as string);
      const { code, afterFailureMs } = await exitAfterFailure(daemon);
      assert.equal(code, 1, daemon.stderr);
      assert.match(
        daemon.stderr.trim(),
        /^tunkit-headless: the kernel refused the route fd88:2::\/64 .* IPv6 is disabled/,
      );
      assert.equal(daemon.stderr.trim().split('\n').length, 1, daemon.stderr);
      assert.ok(afterFailureMs < 2000, `exited ${Math.round(afterFailureMs)} ms after the failure`);
      assert.deepEqual(hostLeftovers(lab, 'client', name), []);
    } finally {
      lab.exec('client', 'sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=0']);
    }
  });

  it('nft missing (not on PATH): forwarding, rules and routes are undone', async () => {
    const name = `tkfn${id}`;
    const daemon = gateway(name, [], { PATH: '/usr/bin:/bin' });
    await assertCleanExit(daemon, 'gateway', name, /^tunkit-gateway: --masquerade needs nftables: install it/);
  });

  it('a name the TUN cannot take (a veth holds it): exits 1 and leaves that link alone', async () => {
    const name = `tkft${id}`;
    lab.exec('gateway', 'ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
    try {
      const daemon = gateway(name);
      const { code, afterFailureMs } = await exitAfterFailure(daemon);
      assert.equal(code, 1, daemon.stderr);
      assert.equal(daemon.stderr.trim().split('\n').length, 1, daemon.stderr);
      assert.match(daemon.stderr.trim(), new RegExp(`^tunkit-gateway: .*${name}`));
      assert.ok(afterFailureMs < 2000, `exited ${Math.round(afterFailureMs)} ms after the failure`);
      assert.deepEqual(hostLeftovers(lab, 'gateway', name), [`link ${name}`], 'only the link it found');
    } finally {
      lab.exec('gateway', 'ip', ['link', 'del', name]);
    }
  });
});
