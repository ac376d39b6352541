// The systemd notifier: the messages sd_notify(3) defines, $NOTIFY_SOCKET taken out of the
// environment (hooks must not inherit it), nothing without it, one warning when sends fail.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemdNotifier } from './sd-notify.js';

function capture() {
  const sent: [string, string][] = [];
  const warnings: unknown[] = [];
  const log = { warn: (fields: unknown) => warnings.push(fields), debug: () => {} };
  return { sent, warnings, log, sender: { sendUnixDatagram: (path: string, data: string) => sent.push([path, data]) } };
}

describe('systemdNotifier', () => {
  it('sends READY=1, RELOADING=1 (with MONOTONIC_USEC) and STOPPING=1 with a STATUS= line', () => {
    const { sent, log, sender } = capture();
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', OTHER: '1' };
    const notify = systemdNotifier(() => sender, env, log);
    assert.deepEqual(env, { OTHER: '1' }, 'taken out of the environment');
    notify.ready('gateway up:\nwg0');
    notify.reloading();
    notify.stopping('stopping on SIGTERM');
    assert.deepEqual(
      sent.map(([p]) => p),
      ['/run/systemd/notify', '/run/systemd/notify', '/run/systemd/notify'],
    );
    assert.equal(sent[0]?.[1], 'READY=1\nSTATUS=gateway up: wg0');
    assert.match(sent[1]?.[1] ?? '', /^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading$/);
    assert.equal(sent[2]?.[1], 'STOPPING=1\nSTATUS=stopping on SIGTERM');
  });

  it('sends nothing without $NOTIFY_SOCKET', () => {
    const { sent, log, sender } = capture();
    const notify = systemdNotifier(() => sender, {}, log);
    notify.ready('up');
    notify.stopping('bye');
    assert.deepEqual(sent, []);
  });

  it('logs one warning when sending fails (or the platform cannot), and goes on', () => {
    const { warnings, log } = capture();
    const failing = {
      sendUnixDatagram: () => {
        throw new Error('ECONNREFUSED sending to the unix socket /run/systemd/notify');
      },
    };
    const notify = systemdNotifier(() => failing, { NOTIFY_SOCKET: '/run/systemd/notify' }, log);
    notify.ready('up');
    notify.stopping('bye');
    assert.equal(warnings.length, 1);
    const none = capture();
    systemdNotifier(() => undefined, { NOTIFY_SOCKET: '@x' }, none.log).ready('up');
    assert.match(JSON.stringify(none.warnings), /no AF_UNIX datagram sender/);
  });
});
