// The TUN removed under a running daemon (issue 13): one JSON error line, every host change
// undone, exit 1 within 2 s — on a gateway, and on a client routing 0.0.0.0/0 and ::/0, where a
// capture on its underlay veth shows that nothing left in plain text between the removal and the
// moment its rules went. SIGQUIT and an uncaught exception take the same road out.
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

describe('the TUN removed under a running daemon', { skip, timeout: 120_000 }, () => {
  let lab: Lab;
  let keys: ReturnType<typeof tunnelConfigs>;

  before(() => {
    lab = createLab();
    keys = tunnelConfigs({ keepalive: 1 });
    lab.exec('gateway', 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
  });

  after(() => lab?.destroy());

  it('a gateway logs one JSON error line, undoes every host change and exits 1 within 2 s', async () => {
    const name = `tkdg${id}`;
    const files = writeConfigs({ [name]: keys.gatewayText, [`tkdc${id}`]: keys.clientText }, lab);
    const gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[name] as string, [
      '--forward',
      '--masquerade',
      'g1',
    ]);
    await gateway.waitForLog('gateway up');
    const client = startDaemon(lab, 'client', 'headless', files.paths[`tkdc${id}`] as string);
    try {
      await gateway.waitForLog('handshake completed');
      assert.ok(hostLeftovers(lab, 'gateway', name).length > 0, 'it changed the host while it ran');
      const { code, tookMs } = await removeTun(lab, 'gateway', name, gateway);
      assert.equal(code, 1, gateway.stderr);
      assert.ok(tookMs < 2000, `exited ${Math.round(tookMs)} ms after the removal`);
      const [line, ...more] = errors(gateway);
      assert.deepEqual(more, [], `one error line: ${JSON.stringify(errors(gateway))}`);
      assert.equal(line?.msg, 'the TUN device ended by itself: undoing the host changes and exiting');
      assert.equal(line?.interface, name);
      assert.equal(typeof line?.errno, 'string', JSON.stringify(line));
      assert.equal(gateway.stderr, '', 'nothing outside the JSON log');
      assert.deepEqual(hostLeftovers(lab, 'gateway', name), []);
      assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '0', 'forwarding restored');
    } finally {
      await client.stop();
      await gateway.stop();
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
    let capture: ChildProcess | undefined;
    let sender: ChildProcess | undefined;
    try {
      await gateway.waitForLog('gateway up');
      client = startDaemon(lab, 'client', 'headless', files.paths[name] as string, ['--log-level', 'debug']);
      await client.waitForLog('handshake completed');
      // Plain text to the server: any datagram on c0 addressed to it (the tunnel's go to the gateway's UDP port).
      const server = lab.addresses.server as string;
      const server6 = lab.addresses.server6 as string;
      capture = lab.spawn(
        'client',
        'tcpdump',
        ['-i', 'c0', '-n', '-tt', '-l', '-U', '-p', `dst host ${server} or dst host ${server6}`],
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
      await waitFor('tcpdump to listen', () => captureLog.includes('listening on c0'), 10_000);
      // A sender that keeps going whatever the routes say (every 1 ms, IPv4 and IPv6, errors ignored).
      sender = await nodeServer(
        lab,
        'client',
        `import { createSocket } from 'node:dgram';
         const s4 = createSocket('udp4'), s6 = createSocket('udp6');
         s4.on('error', () => {}); s6.on('error', () => {});
         setInterval(() => { s4.send('plain?', 9, '${server}', () => {}); s6.send('plain?', 9, '${server6}', () => {}); }, 1);
         console.log('ready');`,
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(captured, '', 'through the tunnel, nothing to the server shows on c0');
      const running = client;
      const { code, tookMs, removedAtWall } = await removeTun(lab, 'client', name, running);
      assert.equal(code, 1);
      assert.ok(tookMs < 2000, `exited ${Math.round(tookMs)} ms after the removal`);
      assert.equal(errors(running).length, 1, JSON.stringify(errors(running)));
      // The rules are the last host change it undoes, after the TUN device is released: until then
      // the unreachable routes refuse what the tunnel routed.
      const released = running.logs.find((l) => l.msg === `released the TUN device ${name}`);
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
      const leaked = packets.filter((p) => p.at < rulesGoAt);
      console.log(
        `# removal → rules removed: ${rulesGoAt - removedAtWall} ms; plain text before: ${leaked.length}, after: ${packets.length - leaked.length}`,
      );
      assert.deepEqual(
        leaked.map((p) => p.line),
        [],
        'no plain text before the rules were removed',
      );
      assert.ok(packets.length > leaked.length, 'the capture sees plain text once the daemon is gone');
      assert.deepEqual(hostLeftovers(lab, 'client', name), []);
    } finally {
      sender?.kill();
      capture?.kill();
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
