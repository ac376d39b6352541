// wg-quick's hooks in the lab: refused without --allow-hooks; with it, PreUp before the TUN exists,
// PostUp once it is up, PreDown first and PostDown last on the way out (after the rules are gone),
// each with %i; a failing PostUp stops the start and undoes it (PostDown runs, PreDown does not);
// a PreDown that takes its time shows /healthz answering 503 from the TUN's removal until the daemon
// is gone. The daemon is also started wg-quick's way, with the config file as its argument.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import {
  appMain,
  createLab,
  type Daemon,
  exitAfterFailure,
  hostLeftovers,
  type Lab,
  startDaemon,
  tunnelConfigs,
  writeConfigs,
} from './lab.js';

const { skip } = privilegedSuite('tunkit daemons: PreUp/PostUp/PreDown/PostDown');
const id = process.pid % 10000;
const PORT = 21_000 + (id % 1000);

/**
 * Hook lines that append "<kind> <interface> <whether the device exists> <rules of slot 0>" to `log`,
 * so the file tells the order, the %i substitution and what existed when each ran.
 */
function recordingHooks(log: string, extra: Partial<Record<'PreUp' | 'PostUp' | 'PreDown' | 'PostDown', string>> = {}) {
  const state = `$(ip link show %i >/dev/null 2>&1 && echo device || echo no-device) $(ip rule | grep -c 'lookup 51820')`;
  return ['PreUp', 'PostUp', 'PreDown', 'PostDown']
    .map((kind) => {
      const more = extra[kind as keyof typeof extra];
      return `${kind} = echo "${kind} %i ${state}" >> ${log}${more ? `\n${kind} = ${more}` : ''}`;
    })
    .join('\n');
}

describe('hooks', { skip, timeout: 120_000 }, () => {
  let lab: Lab;
  let keys: ReturnType<typeof tunnelConfigs>;
  let dir: string;

  before(() => {
    lab = createLab();
    keys = tunnelConfigs();
    dir = writeConfigs({}, lab).dir;
  });

  after(() => lab?.destroy());

  /** The gateway's config with `hooks` appended to [Interface]. */
  const withHooks = (name: string, hooks: string) => {
    const text = keys.gatewayText.replace('\n\n[Peer]', `\n${hooks}\n\n[Peer]`);
    return writeConfigs({ [name]: text }, lab).paths[name] as string;
  };

  it('are refused without --allow-hooks, in one line, before anything is made', async () => {
    const name = `tkkr${id}`;
    const log = `${dir}/${name}.log`;
    const daemon = startDaemon(lab, 'gateway', 'gateway', withHooks(name, recordingHooks(log)));
    assert.equal(await daemon.exited, 1);
    assert.match(
      daemon.stderr,
      /^tunkit-gateway: .*has PreUp, PostUp, PreDown, PostDown: shell commands tunkit runs only with --allow-hooks/,
    );
    assert.equal(daemon.stderr.trim().split('\n').length, 1);
    assert.ok(!existsSync(log), 'no hook ran');
    assert.deepEqual(hostLeftovers(lab, 'gateway', name), []);
  });

  it('run in wg-quick’s order with %i, around the TUN and the rules, when started as `tunkit-gateway <config file>`', async () => {
    const name = `tkko${id}`;
    const log = `${dir}/${name}.log`;
    const config = withHooks(name, recordingHooks(log));
    // wg-quick's way: the config file is the argument.
    const child = lab.spawn(
      'gateway',
      process.execPath,
      [appMain('gateway'), config, '--allow-hooks', '--log-format', 'json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    try {
      const deadline = Date.now() + 15_000;
      while (!stdout.includes('"gateway up"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(stdout, /"gateway up"/);
      assert.equal(readFileSync(log, 'utf8'), `PreUp ${name} no-device 0\nPostUp ${name} device 1\n`);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.equal(
        readFileSync(log, 'utf8'),
        [
          `PreUp ${name} no-device 0`,
          `PostUp ${name} device 1`,
          `PreDown ${name} device 1`,
          `PostDown ${name} no-device 0`,
          '',
        ].join('\n'),
        'PreDown while everything is up, PostDown once the device and its rules are gone',
      );
      assert.deepEqual(hostLeftovers(lab, 'gateway', name), []);
      assert.match(stdout, /"msg":"running PostUp hook"/);
    } finally {
      // A stop, not a kill: a failed assertion must not leave rules behind for the next test.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    }
  });

  it('a failing PostUp stops the start and undoes it: PostDown runs, PreDown does not, exit 1 within 2 s', async () => {
    const name = `tkkf${id}`;
    const log = `${dir}/${name}.log`;
    const config = withHooks(name, recordingHooks(log, { PostUp: 'echo "no such chain" >&2; exit 4' }));
    const daemon = startDaemon(lab, 'gateway', 'gateway', config, ['--allow-hooks', '--forward', '--masquerade', 'g1']);
    const { code, afterFailureMs } = await exitAfterFailure(daemon);
    assert.equal(code, 1);
    assert.equal(
      daemon.stderr.trim(),
      `tunkit-gateway: PostUp hook failed (exit 4): echo "no such chain" >&2; exit 4 — no such chain`,
    );
    assert.ok(afterFailureMs < 2000, `exited ${Math.round(afterFailureMs)} ms after the failure`);
    assert.equal(
      readFileSync(log, 'utf8'),
      [`PreUp ${name} no-device 0`, `PostUp ${name} device 1`, `PostDown ${name} no-device 0`, ''].join('\n'),
    );
    assert.deepEqual(hostLeftovers(lab, 'gateway', name), []);
  });

  it('/healthz answers 503 saying why from the TUN’s removal until the daemon is gone (a PreDown that takes 0.5 s)', async () => {
    const name = `tkkh${id}`;
    const log = `${dir}/${name}.log`;
    const config = withHooks(name, recordingHooks(log, { PreDown: 'sleep 0.5' }));
    const gateway: Daemon = startDaemon(lab, 'gateway', 'gateway', config, [
      '--allow-hooks',
      '--metrics-listen',
      `127.0.0.1:${PORT}`,
    ]);
    await gateway.waitForLog('gateway up');
    // A poller inside the namespace: one line per change of answer, until the listener is gone.
    const poller = lab.spawn(
      'gateway',
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `let last = '';
         for (;;) {
           let line;
           try {
             const r = await fetch('http://127.0.0.1:${PORT}/healthz');
             const b = await r.json();
             line = JSON.stringify([r.status, b.device, b.reason ?? null]);
           } catch { if (last) process.exit(0); line = ''; }
           if (line && line !== last) { console.log(line); last = line; }
           await new Promise((r) => setTimeout(r, 10));
         }`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let seen = '';
    poller.stdout?.on('data', (d) => {
      seen += d;
    });
    const pollerDone = new Promise((resolve) => poller.once('exit', resolve));
    const deadline = Date.now() + 5000;
    while (!seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(seen, /^\[200,"up",null\]$/m);
    lab.exec('gateway', 'ip', ['link', 'del', name]);
    assert.equal(await gateway.exited, 1);
    await pollerDone;
    const answers = seen
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as [number, string, string | null]);
    assert.deepEqual(answers[0], [200, 'up', null]);
    const last = answers.at(-1) as [number, string, string | null];
    assert.equal(last[0], 503, seen);
    assert.equal(last[1], 'stopping', seen);
    assert.match(last[2] ?? '', /^the TUN device ended by itself: /, seen);
    assert.deepEqual(
      readFileSync(log, 'utf8')
        .split('\n')
        .map((l) => l.split(' ').slice(0, 3).join(' ')),
      [
        `PreUp ${name} no-device`,
        `PostUp ${name} device`,
        `PreDown ${name} no-device`,
        `PostDown ${name} no-device`,
        '',
      ],
      'the down hooks run when the device ended by itself too',
    );
    assert.deepEqual(hostLeftovers(lab, 'gateway', name), []);
  });
});
