// The gateway run as its systemd unit runs it, without systemd: user nobody with CAP_NET_ADMIN as
// its only (ambient) capability, /run/tunkit and /run/wireguard its own (RuntimeDirectory=, here
// bind mounts in a private mount namespace), ExecStartPre's --cleanup first, the interface as the
// argument, --forward, and $NOTIFY_SOCKET pointing at a real AF_UNIX datagram socket this test
// listens on (python3: Node cannot bind one). READY=1 comes after "up", RELOADING=1 then READY=1
// around a SIGHUP, STOPPING=1 on SIGTERM, and the stop leaves nothing behind.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkoutView, privilegedSuite } from '@tunkit/tun-core/testing';
import { appMain, createLab, hostLeftovers, type Lab, ROOT, tunnelConfigs, waitFor, writeConfigs } from './lab.js';

const { skip } = privilegedSuite('tunkit-gateway as its systemd unit runs it');
const id = process.pid % 10000;
const name = `tksd${id}`;
const view = checkoutView(ROOT);

/** Prints "<unix time> <datagram as JSON>" for each datagram to the socket at argv[1] (made 0666: systemd's is). */
const LISTENER = `
import json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
print('ready', flush=True)
while True:
    message = s.recv(4096).decode()
    print(time.time(), json.dumps(message), flush=True)
`;

describe('tunkit-gateway as its systemd unit runs it', { skip, timeout: 120_000 }, () => {
  let lab: Lab;
  let dir: string;
  let listener: ChildProcess | undefined;
  const received: { at: number; message: string }[] = [];

  before(async () => {
    lab = createLab();
    lab.exec('gateway', 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
    dir = mkdtempSync(join(tmpdir(), 'tunkit-unit-'));
    chmodSync(dir, 0o755);
    for (const sub of ['tunkit', 'wireguard']) mkdirSync(join(dir, sub), { mode: 0o755 });
    lab.exec('gateway', 'chown', ['nobody', join(dir, 'tunkit'), join(dir, 'wireguard')]);
    // Debian's /dev/net/tun is 0666 (CAP_NET_ADMIN is then all it takes); some containers make it
    // 0600. The daemon gets a 0666 node of its own in its private mount namespace: the host's is untouched.
    lab.exec('gateway', 'mknod', ['-m', '0666', join(dir, 'tun'), 'c', '10', '200']);
    listener = spawn('python3', ['-c', LISTENER, join(dir, 'notify')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    listener.stdout?.on('data', (d) => {
      buffered += d;
      for (let n = buffered.indexOf('\n'); n >= 0; n = buffered.indexOf('\n')) {
        const line = buffered.slice(0, n);
        buffered = buffered.slice(n + 1);
        if (line === 'ready') continue;
        const space = line.indexOf(' ');
        received.push({ at: Number(line.slice(0, space)) * 1000, message: JSON.parse(line.slice(space + 1)) });
      }
    });
    await waitFor('the notify socket', () => existsSync(join(dir, 'notify')), 10_000);
  });

  after(() => {
    listener?.kill();
    lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the app as the unit would: nobody, CAP_NET_ADMIN only, the runtime directories its own. */
  const asTheUnit = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const [command, wrapped] = view.wrap(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=+net_admin',
        '--ambient-caps=+net_admin',
        process.execPath,
        view.path(appMain('gateway')),
        ...args,
      ],
      {
        binds: [
          [join(dir, 'tunkit'), '/run/tunkit'],
          [join(dir, 'wireguard'), '/run/wireguard'],
          [join(dir, 'tun'), '/dev/net/tun'],
        ],
      },
    );
    return lab.spawn('gateway', command, wrapped, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
  };

  it('--cleanup first, then up as nobody: READY=1 after "up", RELOADING=1 and READY=1 around SIGHUP, STOPPING=1, nothing left', async () => {
    const files = writeConfigs({ [name]: tunnelConfigs().gatewayText }, lab);
    lab.exec('gateway', 'chown', ['-R', 'nobody', files.dir]);

    const cleanup = asTheUnit(['--cleanup', files.paths[name] as string]);
    let cleanupOut = '';
    cleanup.stdout?.on('data', (d) => {
      cleanupOut += d;
    });
    assert.equal(await new Promise((r) => cleanup.once('exit', r)), 0);
    assert.match(cleanupOut, new RegExp(`nothing to clean up for ${name}`));

    const daemon = asTheUnit([files.paths[name] as string, '--forward', '--log-format', 'json'], {
      NOTIFY_SOCKET: join(dir, 'notify'),
    });
    const logs: Record<string, unknown>[] = [];
    let stderr = '';
    let buffered = '';
    daemon.stdout?.on('data', (d) => {
      buffered += d;
      for (let n = buffered.indexOf('\n'); n >= 0; n = buffered.indexOf('\n')) {
        logs.push(JSON.parse(buffered.slice(0, n)));
        buffered = buffered.slice(n + 1);
      }
    });
    daemon.stderr?.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise((r) => daemon.once('exit', (code, signal) => r(code ?? signal)));
    try {
      await waitFor('READY=1', () => received.some((r) => r.message.startsWith('READY=1')), 15_000).catch((error) => {
        throw new Error(`${error.message}; stderr: ${stderr}; logs: ${JSON.stringify(logs)}`);
      });
      const up = logs.find((l) => l.msg === 'gateway up');
      assert.ok(up, `${stderr}\n${JSON.stringify(logs)}`);
      const ready = received.find((r) => r.message.startsWith('READY=1'));
      assert.ok((ready?.at ?? 0) >= (up.time as number) - 1, `READY=1 at ${ready?.at}, up at ${up.time}`);
      assert.match(ready?.message ?? '', new RegExp(`^READY=1\nSTATUS=gateway up: ${name}, UDP port 51820, 1 peer$`));
      assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '1', '--forward as nobody');
      assert.deepEqual(
        readdirSync(join(dir, 'wireguard')),
        [`${name}.sock`],
        'its UAPI socket in its runtime directory',
      );
      assert.deepEqual(readdirSync(join(dir, 'tunkit')), [`${name}.json`], 'its journal in its runtime directory');

      const before = received.length;
      daemon.kill('SIGHUP');
      await waitFor(
        'READY=1 after the reload',
        () => received.slice(before).some((r) => r.message.startsWith('READY=1')),
        10_000,
      );
      const around = received.slice(before).map((r) => r.message.split('\n')[0]);
      assert.deepEqual(around, ['RELOADING=1', 'READY=1']);
      assert.match(received[before]?.message ?? '', /^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading$/);

      daemon.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.equal(received.at(-1)?.message, 'STOPPING=1\nSTATUS=stopping on SIGTERM');
      assert.deepEqual(hostLeftovers(lab, 'gateway', name), []);
      assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '0');
      assert.deepEqual(readdirSync(join(dir, 'tunkit')), [], 'the journal is gone');
      assert.deepEqual(readdirSync(join(dir, 'wireguard')), [], 'the UAPI socket is gone');
      assert.equal(stderr, '');
    } finally {
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGTERM');
      await exited;
    }
  });
});
