// The TUN removed under a running daemon (issue 13): one JSON error line, every host change
// undone, exit 1 within 2 s — on a gateway, and on a client routing 0.0.0.0/0 and ::/0; on both, a
// capture on the underlay veth that the host's own default route leaves by shows that nothing
// went out in plain text between the removal and the moment the rules went. SIGQUIT and an
// uncaught exception take the same road out.
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import {
  createLab,
  type Daemon,
  hostLeftovers,
  type Lab,
  nodeServer,
  startDaemon,
  TUNNEL,
  tunnelConfigs,
  waitFor,
  writeConfigs,
} from './lab.js';

const haveTcpdump = spawnSync('sh', ['-c', 'command -v tcpdump']).status === 0;
const { skip } = privilegedSuite(
  'tunkit daemons: the TUN removed under them',
  haveTcpdump ? undefined : 'tcpdump is not installed (apt-get install --no-install-recommends tcpdump)',
);
const id = process.pid % 10000;

/** Log entries at error level or above (pino: 50 error, 60 fatal). */
const errors = (daemon: Daemon) => daemon.logs.filter((l) => (l.level as number) >= 50);

/** Removes interface `name` in `where`; resolves the daemon's exit code and how long after the removal it came. */
async function removeTun(lab: Lab, where: string, name: string, daemon: Daemon) {
  const removedAt = performance.now();
  const removedAtWall = Date.now();
  lab.exec(where, 'ip', ['link', 'del', name]);
  const code = await daemon.exited;
  return { code, tookMs: performance.now() - removedAt, removedAtWall };
}

/**
 * Removes interface `name` in `where` while a sender there sends UDP to `targets` (an IPv4 and an
 * IPv6 address the tunnel routes) every millisecond, whatever the routes say, and tcpdump listens
 * on `underlay` (the veth the host's default routes leave by) for any packet to them: before the
 * removal the tunnel carries them (nothing on `underlay`); the result says what showed there
 * before the daemon released its rules (the last host change it undoes: until then the
 * unreachable routes refuse what the tunnel routed) and after.
 */
async function removeTunWatchingUnderlay(
  lab: Lab,
  where: string,
  name: string,
  daemon: Daemon,
  underlay: string,
  targets: [string, string],
) {
  const [v4, v6] = targets;
  let capture: ChildProcess | undefined;
  let sender: ChildProcess | undefined;
  try {
    capture = lab.spawn(
      where,
      'tcpdump',
      ['-i', underlay, '-n', '-tt', '-l', '-U', '-p', `dst host ${v4} or dst host ${v6}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let captured = '';
    capture.stdout?.on('data', (d) => {
      captured += d;
    });
    let captureLog = '';
    capture.stderr?.on('data', (d) => {
      captureLog += d;
    });
    await waitFor('tcpdump to listen', () => captureLog.includes(`listening on ${underlay}`), 10_000);
    sender = await nodeServer(
      lab,
      where,
      `import { createSocket } from 'node:dgram';
       const s4 = createSocket('udp4'), s6 = createSocket('udp6');
       s4.on('error', () => {}); s6.on('error', () => {});
       setInterval(() => { s4.send('plain?', 9, '${v4}', () => {}); s6.send('plain?', 9, '${v6}', () => {}); }, 1);
       console.log('ready');`,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(captured, '', `through the tunnel, nothing to ${v4} or ${v6} shows on ${underlay}`);
    const removed = await removeTun(lab, where, name, daemon);
    const released = daemon.logs.find((l) => l.msg === `released the TUN device ${name}`);
    assert.ok(released, 'the release of the TUN is logged (debug)');
    const rulesGoAt = released.time as number;
    await new Promise((r) => setTimeout(r, 300)); // the host routes through main again: plain text now
    capture.kill('SIGINT');
    await new Promise((r) => capture?.once('exit', r));
    const packets = captured
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ at: Number(line.split(' ')[0]) * 1000, line }));
    const leaked = packets.filter((p) => p.at < rulesGoAt).map((p) => p.line);
    console.log(
      `# ${where}: removal → rules removed: ${rulesGoAt - removed.removedAtWall} ms; plain text before: ${leaked.length}, after: ${packets.length - leaked.length}`,
    );
    return { ...removed, leaked, plainAfter: packets.length - leaked.length };
  } finally {
    sender?.kill();
    capture?.kill();
  }
}

describe('the TUN removed under a running daemon', { skip, timeout: 120_000 }, () => {
  let lab: Lab;
  let keys: ReturnType<typeof tunnelConfigs>;

  before(() => {
    lab = createLab();
    keys = tunnelConfigs({ keepalive: 1 });
    lab.exec('gateway', 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
  });

  after(() => lab?.destroy());

  it('a gateway logs one JSON error line, undoes every host change, exits 1 within 2 s, and sends nothing in plain text', async () => {
    const name = `tkdg${id}`;
    const files = writeConfigs({ [name]: keys.gatewayText, [`tkdc${id}`]: keys.clientText }, lab);
    // The gateway host's own default routes go out by g0, towards the client's underlay: without
    // the tunnel, what it sends to the client's tunnel address would leave there in plain text.
    lab.exec('gateway', 'ip', ['route', 'add', 'default', 'via', lab.addresses.client as string]);
    lab.exec('gateway', 'ip', ['-6', 'route', 'add', 'default', 'via', lab.addresses.client6 as string]);
    const gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[name] as string, [
      '--forward',
      '--masquerade',
      'g1',
      '--log-level',
      'debug',
    ]);
    let client: Daemon | undefined;
    try {
      await gateway.waitForLog('gateway up');
      client = startDaemon(lab, 'client', 'headless', files.paths[`tkdc${id}`] as string);
      await gateway.waitForLog('handshake completed');
      assert.ok(hostLeftovers(lab, 'gateway', name).length > 0, 'it changed the host while it ran');
      const { code, tookMs, leaked, plainAfter } = await removeTunWatchingUnderlay(
        lab,
        'gateway',
        name,
        gateway,
        'g0',
        [TUNNEL.client, TUNNEL.client6],
      );
      assert.equal(code, 1, gateway.stderr);
      assert.ok(tookMs < 2000, `exited ${Math.round(tookMs)} ms after the removal`);
      const [line, ...more] = errors(gateway);
      assert.deepEqual(more, [], `one error line: ${JSON.stringify(errors(gateway))}`);
      assert.equal(line?.msg, 'the TUN device ended by itself: undoing the host changes and exiting');
      assert.equal(line?.interface, name);
      assert.equal(typeof line?.errno, 'string', JSON.stringify(line));
      assert.equal(gateway.stderr, '', 'nothing outside the JSON log');
      assert.deepEqual(leaked, [], 'no plain text before the rules were removed');
      assert.ok(plainAfter > 0, 'the capture sees plain text once the daemon is gone');
      assert.deepEqual(hostLeftovers(lab, 'gateway', name), []);
      assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '0', 'forwarding restored');
    } finally {
      await client?.stop();
      await gateway.stop();
      lab.exec('gateway', 'ip', ['route', 'del', 'default']);
      lab.exec('gateway', 'ip', ['-6', 'route', 'del', 'default']);
    }
  });

  it('a client routing 0.0.0.0/0 and ::/0 sends nothing in plain text from the removal until its rules are gone', async () => {
    const gatewayName = `tkdh${id}`;
    const name = `tkde${id}`;
    const everything = tunnelConfigs({
      gatewayKeys: keys.gateway,
      clientKeys: keys.client,
      clientAllowedIps: ['0.0.0.0/0', '::/0'],
      keepalive: 1,
    });
    const files = writeConfigs({ [gatewayName]: everything.gatewayText, [name]: everything.clientText }, lab);
    // The client host's own default routes go out through its underlay (c0), as on a laptop:
    // without the tunnel, traffic to the server would leave there in plain text.
    lab.exec('client', 'ip', ['route', 'add', 'default', 'via', lab.addresses.gatewayClientSide as string]);
    lab.exec('client', 'ip', ['-6', 'route', 'add', 'default', 'via', lab.addresses.gatewayClientSide6 as string]);
    const gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[gatewayName] as string);
    let client: Daemon | undefined;
    try {
      await gateway.waitForLog('gateway up');
      client = startDaemon(lab, 'client', 'headless', files.paths[name] as string, ['--log-level', 'debug']);
      await client.waitForLog('handshake completed');
      const running = client;
      const { code, tookMs, leaked, plainAfter } = await removeTunWatchingUnderlay(lab, 'client', name, running, 'c0', [
        lab.addresses.server as string,
        lab.addresses.server6 as string,
      ]);
      assert.equal(code, 1);
      assert.ok(tookMs < 2000, `exited ${Math.round(tookMs)} ms after the removal`);
      assert.equal(errors(running).length, 1, JSON.stringify(errors(running)));
      assert.deepEqual(leaked, [], 'no plain text before the rules were removed');
      assert.ok(plainAfter > 0, 'the capture sees plain text once the daemon is gone');
      assert.deepEqual(hostLeftovers(lab, 'client', name), []);
    } finally {
      await client?.stop();
      await gateway.stop();
      lab.exec('client', 'ip', ['route', 'del', 'default']);
      lab.exec('client', 'ip', ['-6', 'route', 'del', 'default']);
    }
  });

  it('SIGQUIT stops like SIGTERM: exit 0, nothing left', async () => {
    const name = `tkdq${id}`;
    const files = writeConfigs({ [name]: keys.gatewayText }, lab);
    const gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[name] as string, [
      '--forward',
      '--masquerade',
      'g1',
    ]);
    await gateway.waitForLog('gateway up');
    const stoppedAt = performance.now();
    assert.equal(await gateway.stop('SIGQUIT'), 0);
    assert.ok(performance.now() - stoppedAt < 2000);
    assert.deepEqual(hostLeftovers(lab, 'gateway', name), []);
    assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '0');
  });

  it('an uncaught exception is logged as fatal, and everything is undone before exit 1', async () => {
    const name = `tkdx${id}`;
    const files = writeConfigs({ [name]: keys.gatewayText }, lab);
    // The fault, injected from outside the daemon's code: a throw from a SIGUSR2 handler.
    const fault = `process.on('SIGUSR2', () => { throw new Error('injected fault'); });`;
    const gateway = startDaemon(
      lab,
      'gateway',
      'gateway',
      files.paths[name] as string,
      ['--forward', '--masquerade', 'g1'],
      {
        nodeArgs: ['--import', `data:text/javascript,${encodeURIComponent(fault)}`],
      },
    );
    await gateway.waitForLog('gateway up');
    const thrownAt = performance.now();
    gateway.child.kill('SIGUSR2');
    assert.equal(await gateway.exited, 1);
    assert.ok(performance.now() - thrownAt < 2000);
    const [line, ...more] = errors(gateway);
    assert.deepEqual(more, []);
    assert.equal(line?.level, 60);
    assert.equal(line?.msg, 'uncaught exception: undoing the host changes and exiting');
    assert.equal(line?.error, 'injected fault');
    assert.deepEqual(hostLeftovers(lab, 'gateway', name), []);
    assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '0');
  });
});
