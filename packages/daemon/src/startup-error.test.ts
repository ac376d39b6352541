// Startup errors: one line each, saying what to do — here the UAPI socket and the journal, which
// fail without root even when CAP_NET_ADMIN (setcap) lets the TUN open.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunOsError } from '@tunkit/tun-core';
import { BindPortInUseError } from '@tunkit/wireguard';
import { Journal } from './journal.js';
import { StartupError, startupErrorLine, uapiStartupError } from './startup-error.js';

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

  it('still hint at CAP_NET_ADMIN when the TUN itself is refused', () => {
    const line = startupErrorLine('tunkit-gateway', new TunOsError('EPERM', 'ioctl', 'TUNSETIFF tk0: EPERM'));
    assert.match(line, /run as root, or grant CAP_NET_ADMIN/);
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
