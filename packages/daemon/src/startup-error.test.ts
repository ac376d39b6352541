// Startup errors: one line each, saying what to do — here the UAPI socket and the journal, which
// fail without root even when CAP_NET_ADMIN (setcap) lets the TUN open.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TunOsError } from '@tunkit/tun-core';
import { BindPortInUseError } from '@tunkit/wireguard';
import { Journal } from './journal.js';
import { hasNetAdmin, StartupError, startupErrorLine, uapiStartupError } from './startup-error.js';

const nodeError = (code: string, syscall: string, path: string) =>
  Object.assign(new Error(`${code}: permission denied, ${syscall} '${path}'`), { code, errno: -13, syscall, path });

describe('startup errors', () => {
  it('map a UAPI directory that cannot be made to one line: root, create the directory, or --no-uapi', () => {
    for (const error of [
      nodeError('EACCES', 'mkdir', '/var/run/wireguard'),
      new TunOsError('EACCES', 'bind', 'cannot listen on /var/run/wireguard/tk0.sock: EACCES'),
      nodeError('EROFS', 'mkdir', '/var/run/wireguard'),
    ]) {
      const mapped = uapiStartupError(error, '/var/run/wireguard', 'tk0');
      assert.ok(mapped instanceof StartupError);
      const line = startupErrorLine('tunkit-headless', mapped);
      assert.ok(!line.includes('\n'));
      assert.match(line, /^tunkit-headless: cannot create the UAPI socket \/var\/run\/wireguard\/tk0\.sock/);
      assert.match(line, /run as root/);
      assert.match(line, /install -d .* \/var\/run\/wireguard/);
      assert.match(line, /--no-uapi/);
      assert.doesNotMatch(line, /CAP_NET_ADMIN|unexpected error/);
    }
  });

  it('leave other UAPI errors (a live socket) as they are', () => {
    const live = new TunOsError('EADDRINUSE', 'bind', 'the UAPI socket /var/run/wireguard/tk0.sock is in use');
    assert.equal(uapiStartupError(live, '/var/run/wireguard', 'tk0'), live);
  });

  it('name the daemon option that moves a UDP port in use, and only for the UDP port', () => {
    assert.equal(
      startupErrorLine('tunkit-gateway', new BindPortInUseError(51820)),
      'tunkit-gateway: UDP port 51820 is in use by another process: pick another with --listen-port or ListenPort=',
    );
    const uapi = new TunOsError('EADDRINUSE', 'bind', 'the UAPI socket /var/run/wireguard/tk0.sock is in use');
    assert.equal(startupErrorLine('tunkit-gateway', uapi), `tunkit-gateway: ${uapi.message}`);
  });

  it('still hint at CAP_NET_ADMIN when the TUN itself is refused, to a process without it', () => {
    const refused = new TunOsError('EPERM', 'ioctl', 'TUNSETIFF tk0: EPERM');
    const line = startupErrorLine('tunkit-gateway', refused, false);
    assert.match(line, /run as root, or grant CAP_NET_ADMIN/);
    // With CAP_NET_ADMIN the kernel refused for another reason (IPv6 disabled on a device, ...).
    assert.equal(startupErrorLine('tunkit-gateway', refused, true), 'tunkit-gateway: TUNSETIFF tk0: EPERM');
  });

  it('read CAP_NET_ADMIN from a status file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-status-'));
    try {
      const status = (capEff: string) => {
        const path = join(dir, 'status');
        writeFileSync(path, `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`);
        return path;
      };
      assert.equal(hasNetAdmin(status('0000000000001000')), true);
      assert.equal(hasNetAdmin(status('000001ffffffffff')), true);
      assert.equal(hasNetAdmin(status('0000000000000000')), false);
      assert.equal(hasNetAdmin(status('0000000000002fff')), false);
      assert.equal(hasNetAdmin(join(dir, 'absent')), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('say what is in the UAPI socket’s place when it is not a socket, and leave a live socket’s error alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-uapi-'));
    try {
      const inUse = new TunOsError('EADDRINUSE', 'bind', `cannot listen on ${dir}/tk0.sock: EADDRINUSE`);
      assert.equal(uapiStartupError(inUse, dir, 'tk0'), inUse, 'nothing there: passed through');
      mkdirSync(join(dir, 'tk0.sock'));
      assert.equal(
        startupErrorLine('tunkit-gateway', uapiStartupError(inUse, dir, 'tk0')),
        `tunkit-gateway: cannot create the UAPI socket ${dir}/tk0.sock: a directory is in its place (not a socket, so not tunkit's to remove): remove it, pick another --name, or pass --no-uapi`,
      );
      writeFileSync(join(dir, 'tk1.sock'), '');
      assert.match(String((uapiStartupError(inUse, dir, 'tk1') as Error).message), /a file is in its place/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turn a journal directory it cannot make into one line naming TUNKIT_STATE_DIR', () => {
    // sysfs refuses mkdir to everyone, root included (EPERM), as /run refuses a non-root user.
    const journal = Journal.open('tk0', '/sys/tunkit-journal-test');
    let thrown: unknown;
    try {
      journal.record({ kind: 'rule', family: 4, priority: 31000, udpSourcePort: 1 });
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof StartupError, String(thrown));
    assert.match(
      startupErrorLine('tunkit-headless', thrown),
      /^tunkit-headless: cannot write the cleanup journal \/sys\/tunkit-journal-test\/tk0\.json \(permission denied\): run as root, .* TUNKIT_STATE_DIR/,
    );
    assert.equal(journal.pending.length, 0, 'what could not be recorded is not pending');
  });
});
