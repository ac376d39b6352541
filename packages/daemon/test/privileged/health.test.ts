// /healthz beside /metrics, tunkit_build_info and --version, on a gateway in the lab: 200 with the
// client's handshake age; 503 after its event loop stood still (SIGSTOP) for 1.5 s. (503 from the
// TUN's removal until the daemon is gone: hooks.test.ts, where a PreDown hook makes the stop last.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import {
  appMain,
  createLab,
  type Daemon,
  type Lab,
  nodeIn,
  ROOT,
  startDaemon,
  tunnelConfigs,
  writeConfigs,
} from './lab.js';

const { skip } = privilegedSuite('tunkit daemons: /healthz and build info');
const id = process.pid % 10000;
const names = { gateway: `tkhg${id}`, client: `tkhc${id}` };
const PORT = 20_000 + (id % 1000);

/** GET http://127.0.0.1:PORT<path> from inside the gateway's namespace. */
function get(lab: Lab, path: string): { status: number; body: string } {
  return JSON.parse(
    nodeIn(
      lab,
      'gateway',
      `const r = await fetch('http://127.0.0.1:${PORT}${path}');
       console.log(JSON.stringify({ status: r.status, body: await r.text() }));`,
    ),
  );
}

describe('/healthz and build info', { skip, timeout: 120_000 }, () => {
  let lab: Lab;
  let gateway: Daemon;
  let client: Daemon;
  let keys: ReturnType<typeof tunnelConfigs>;

  before(async () => {
    lab = createLab();
    keys = tunnelConfigs({ keepalive: 1 });
    const files = writeConfigs({ [names.gateway]: keys.gatewayText, [names.client]: keys.clientText }, lab);
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway] as string, [
      '--metrics-listen',
      `127.0.0.1:${PORT}`,
    ]);
    await gateway.waitForLog('gateway up');
    client = startDaemon(lab, 'client', 'headless', files.paths[names.client] as string);
    await gateway.waitForLog('handshake completed');
  });

  after(async () => {
    await client?.stop();
    await gateway?.stop();
    lab?.destroy();
  });

  it('--version prints the app’s package.json version', () => {
    for (const role of ['gateway', 'headless'] as const) {
      const { version } = JSON.parse(readFileSync(`${ROOT}/apps/${role}/package.json`, 'utf8'));
      const run = spawnSync(process.execPath, [appMain(role), '--version'], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `tunkit-${role} ${version}\n`);
    }
  });

  it('/metrics carries tunkit_build_info: version, Node.js, platform, AEAD and UDP backend', () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}/apps/gateway/package.json`, 'utf8'));
    const metrics = get(lab, '/metrics');
    assert.equal(metrics.status, 200);
    const up = gateway.logs.find((l) => l.msg === 'gateway up') as Record<string, unknown>;
    const line = metrics.body.split('\n').find((l) => l.startsWith('tunkit_build_info{'));
    assert.equal(
      line,
      `tunkit_build_info{version="${version}",node="${process.version}",platform="${process.platform}-${process.arch}",aead="${up.aead}",udp_bind="${up.udpBind}"} 1`,
    );
    assert.match(metrics.body, /^tunkit_peer_last_handshake_seconds\{peer="10\.99\.0\.2\/32"\} [1-9]/m);
  });

  it('/healthz is 200 with the peer’s handshake age, and 503 after the event loop stood still for 1.5 s', async () => {
    const healthy = get(lab, '/healthz');
    assert.equal(healthy.status, 200, healthy.body);
    const report = JSON.parse(healthy.body);
    assert.equal(report.status, 'ok');
    assert.equal(report.device, 'up');
    assert.equal(report.interface, names.gateway);
    assert.equal(report.peers.length, 1);
    assert.equal(report.peers[0].peer, '10.99.0.2/32');
    assert.ok(report.peers[0].lastHandshakeAgeSeconds >= 0 && report.peers[0].lastHandshakeAgeSeconds < 60);
    for (const key of [keys.gateway.privateKey, keys.gateway.publicKey, keys.client.publicKey])
      assert.ok(!healthy.body.includes(key), 'no key');
    // Stopped, the process runs no timer: once it runs again its event loop was 1.5 s late.
    gateway.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 1500));
    gateway.child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 200));
    const wedged = get(lab, '/healthz');
    assert.equal(wedged.status, 503, wedged.body);
    assert.match(JSON.parse(wedged.body).reason, /^the event loop was blocked for 1[4-9]\d\d ms \(bound 1000 ms\)$/);
  });
});
