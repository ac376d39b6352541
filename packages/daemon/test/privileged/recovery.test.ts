// What happens around failures: a gateway killed with SIGKILL leaves its journalled host changes,
// `--cleanup` removes them; the restarted gateway is found again by the client without help; a
// client that routes everything (0.0.0.0/0, ::/0) keeps its own UDP out of the tunnel.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import {
  appMain,
  createLab,
  type Daemon,
  type Lab,
  startDaemon,
  TUNNEL,
  tunnelConfigs,
  waitFor,
  writeConfigs,
} from './lab.js';

const { skip } = privilegedSuite('tunkit daemons: kill -9, --cleanup, restart, default route');
const id = process.pid % 10000;
const names = { gateway: `tkrg${id}`, client: `tkrc${id}`, everything: `tkre${id}` };
const gatewayBinary = [appMain('gateway')];

describe('tunkit daemons recover', { skip }, () => {
  let lab: Lab;
  let files: ReturnType<typeof writeConfigs>;
  let gateway: Daemon;
  let client: Daemon;

  before(async () => {
    lab = createLab();
    const keys = tunnelConfigs({ keepalive: 2 });
    const everything = tunnelConfigs({
      gatewayKeys: keys.gateway,
      clientKeys: keys.client,
      clientAllowedIps: ['0.0.0.0/0', '::/0'],
    });
    files = writeConfigs(
      {
        [names.gateway]: keys.gatewayText,
        [names.client]: keys.clientText,
        [names.everything]: everything.clientText,
      },
      lab,
    );
    lab.exec('gateway', 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway] as string, [
      '--forward',
      '--masquerade',
      'g1',
    ]);
    await gateway.waitForLog('gateway up');
    client = startDaemon(lab, 'client', 'headless', files.paths[names.client] as string);
    await client.waitForLog('handshake completed');
  });

  after(async () => {
    await client?.stop('SIGTERM');
    await gateway?.stop('SIGTERM');
    lab?.destroy(); // also removes the config files and what the lab's daemons left (journals, UAPI sockets)
  });

  it('after kill -9 of the gateway, --cleanup removes the nft table and restores forwarding', async () => {
    await gateway.stop('SIGKILL');
    const journal = `/run/tunkit/${names.gateway}.json`;
    assert.ok(existsSync(journal), 'the journal stays behind');
    assert.match(lab.exec('gateway', 'nft', ['list', 'tables']), new RegExp(`tunkit_${names.gateway}`));
    assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '1');
    assert.ok(!lab.exec('gateway', 'ip', ['link']).includes(names.gateway), 'the device went with the process');
    // Its routes went with it; the unreachable twins stay, so the peer's address is refused, not leaked.
    assert.match(lab.exec('gateway', 'ip', ['route', 'show', 'table', '51820']), /^unreachable 10\.99\.0\.2 /m);
    assert.throws(() => lab.exec('gateway', 'ip', ['route', 'get', TUNNEL.client]), /No route to host/);
    const output = lab.exec('gateway', process.execPath, [...gatewayBinary, '--cleanup', '--name', names.gateway]);
    assert.match(output, /removed nftables table inet tunkit_/);
    assert.match(output, /removed policy rule pref 31000 \(IPv4\)/); // its peers' /32s sit behind rules too
    assert.match(output, /removed unreachable route 10\.99\.0\.2\/32 in table 51820/);
    assert.match(output, /cleaned up 8 change\(s\)/); // nft, forwarding, 2 rules per family, 2 unreachable routes
    assert.equal(lab.exec('gateway', 'nft', ['list', 'tables']).trim(), '');
    assert.equal(lab.exec('gateway', 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim(), '0');
    assert.ok(!existsSync(journal));
    assert.match(
      lab.exec('gateway', process.execPath, [...gatewayBinary, '--cleanup', '--name', names.gateway]),
      /nothing to clean up/,
    );
  });

  it('the client recovers by itself when the gateway restarts', async () => {
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway] as string, [
      '--forward',
      '--masquerade',
      'g1',
    ]);
    await gateway.waitForLog('gateway up');
    const started = Date.now();
    await waitFor(
      'a ping through the tunnel after the restart',
      () => {
        try {
          lab.exec('client', 'ping', ['-c', '1', '-W', '1', TUNNEL.gateway]);
          return true;
        } catch {
          return false;
        }
      },
      12_000, // the client role notices 5 s of unanswered data, then handshakes
      200,
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`# the client recovered ${seconds.toFixed(1)} s after the gateway restarted`);
    await gateway.waitForLog('handshake completed', 1000);
  });

  it('a restart after kill -9 undoes what was left and journals only its own changes', async () => {
    await gateway.stop('SIGKILL');
    const journal = `/run/tunkit/${names.gateway}.json`;
    const left = JSON.parse(readFileSync(journal, 'utf8')) as { changes: unknown[] };
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway] as string, [
      '--forward',
      '--masquerade',
      'g1',
    ]);
    await gateway.waitForLog('gateway up');
    await gateway.waitForLog(/cleaned up 8 change\(s\)/, 1000);
    const now = JSON.parse(readFileSync(journal, 'utf8')) as { pid: number; changes: unknown[] };
    assert.equal(now.pid, gateway.child.pid, "the journal is the new run's");
    // The same changes once each: the leftovers were undone on the journal the new run records on.
    assert.deepEqual(now.changes, left.changes);
    assert.equal(lab.exec('gateway', 'nft', ['list', 'tables']).match(/tunkit_/g)?.length, 1);
  });

  it('routes everything through the tunnel with 0.0.0.0/0 and ::/0, but not its own UDP', async () => {
    assert.equal(await client.stop('SIGTERM'), 0);
    client = startDaemon(lab, 'client', 'headless', files.paths[names.everything] as string);
    await client.waitForLog('handshake completed');
    const route = JSON.parse(lab.exec('client', 'ip', ['-j', 'route', 'get', lab.addresses.server as string]));
    assert.equal(route[0].dev, names.everything, 'the server is reached through the tunnel');
    assert.match(
      lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', lab.addresses.server as string]),
      / 0% packet loss/,
    );
    const rules = lab.exec('client', 'ip', ['rule']);
    assert.match(rules, /31000:.*ipproto udp sport \d+ lookup main/);
    assert.match(rules, /31001:.*lookup main suppress_prefixlength 0/);
    assert.match(rules, /31002:.*lookup 51820/);
    assert.match(lab.exec('client', 'ip', ['-6', 'rule']), /31002:.*lookup 51820/);
    assert.equal(await client.stop('SIGTERM'), 0);
    assert.doesNotMatch(lab.exec('client', 'ip', ['rule']), /3100[0-2]:/);
    assert.doesNotMatch(lab.exec('client', 'ip', ['-6', 'rule']), /3100[0-2]:/);
  });
});
