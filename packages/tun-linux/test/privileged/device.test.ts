// A real device: ping through a JS responder, rtnetlink configuration read back with `ip -j`,
// clear errors (bad options, a device held by another process, missing privileges), and
// open/close cycles that leave no fd or thread behind.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PacketBatch, TunConfigError, TunOsError } from '@tunkit/tun-core';
import { checkoutView } from '@tunkit/tun-core/testing';
import * as config from '../../src/index.js';
import { openTun } from '../../src/index.js';
import { spawnScript } from './children.js';
import { enterTestNamespace } from './kernel-side.js';

const { skip } = enterTestNamespace('tun-linux device', { ipv6: true });
const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Answers ICMP echo requests (IPv4) read from the device, until it closes. */
async function icmpResponder(tun: Awaited<ReturnType<typeof openTun>>): Promise<number> {
  const batch = new PacketBatch();
  let answered = 0;
  while ((await tun.recvMany(batch)) > 0) {
    for (const p of batch) {
      if ((p[0] as number) >> 4 !== 4 || p[9] !== 1 || p[20] !== 8) continue;
      const reply = p.slice();
      reply.set(p.subarray(16, 20), 12);
      reply.set(p.subarray(12, 16), 16);
      reply[20] = 0; // echo reply
      reply[22] = 0;
      reply[23] = 0;
      let sum = 0;
      for (let i = 20; i < reply.length; i += 2) sum += ((reply[i] as number) << 8) | (reply[i + 1] ?? 0);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      reply[22] = (~sum >> 8) & 0xff;
      reply[23] = ~sum & 0xff;
      while (!tun.send(reply)) await tun.sendReady();
      answered++;
    }
  }
  return answered;
}

function count(dir: string): number {
  return readdirSync(dir).length;
}

describe('LinuxTun device', { skip }, () => {
  it('carries a ping through a JS responder', async () => {
    const tun = await openTun({ name: 'tkping0', addresses: ['10.66.0.1/24'] });
    const responder = icmpResponder(tun);
    const { stdout } = await run('ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.66.0.2']);
    assert.match(stdout, /3 packets transmitted, 3 received/);
    await tun.close();
    assert.equal(await responder, 3);
  });

  it('applies addresses, MTU, txqueuelen and routes over rtnetlink, as `ip -j` reads them back', async () => {
    const tun = await openTun({
      name: 'tkcfg0',
      mtu: 1380,
      txQueueLen: 2345,
      addresses: ['10.55.0.1/24', 'fd55::1/64'],
      routes: ['10.56.0.0/16', 'fd56::/48'],
    });
    try {
      const [link] = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show', 'dev', 'tkcfg0'], { encoding: 'utf8' }));
      assert.equal(link.mtu, 1380);
      assert.equal(link.txqlen, 2345);
      assert.ok(link.flags.includes('UP'));
      const addresses = link.addr_info.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`);
      assert.ok(addresses.includes('10.55.0.1/24') && addresses.includes('fd55::1/64'), addresses.join(' '));
      const routes4 = JSON.parse(execFileSync('ip', ['-j', 'route', 'show', 'dev', 'tkcfg0'], { encoding: 'utf8' }));
      assert.ok(routes4.some((r: { dst: string }) => r.dst === '10.56.0.0/16'));
      const routes6 = JSON.parse(
        execFileSync('ip', ['-j', '-6', 'route', 'show', 'dev', 'tkcfg0'], { encoding: 'utf8' }),
      );
      assert.ok(routes6.some((r: { dst: string }) => r.dst === 'fd56::/48'));
      // Changes and read-back through the package's own API.
      config.addRoute('tkcfg0', '10.57.1.2/16');
      config.setMtu('tkcfg0', 1300);
      const state = config.interfaceState('tkcfg0');
      assert.equal(state.mtu, 1300);
      assert.equal(state.txQueueLen, 2345);
      assert.ok(state.routes.includes('10.57.0.0/16'), state.routes.join(' '));
      assert.ok(state.addresses.includes('10.55.0.1/24'), state.addresses.join(' '));
      // The kernel's refusal comes back with the errno name and the refused argument.
      assert.throws(
        () => config.addRoute('tkcfg0', '10.57.0.0/16'),
        (e: TunOsError) =>
          e instanceof TunOsError &&
          e.errno === 'EEXIST' &&
          e.message.startsWith('EEXIST adding route 10.57.0.0/16 dev tkcfg0'),
      );
      config.removeRoute('tkcfg0', '10.57.0.0/16');
      config.removeAddress('tkcfg0', 'fd55::1/64');
      const after = config.interfaceState('tkcfg0');
      assert.ok(!after.routes.includes('10.57.0.0/16'));
      assert.ok(!after.addresses.includes('fd55::1/64'));
      config.setUp('tkcfg0', false);
      assert.equal(config.interfaceState('tkcfg0').up, false);
    } finally {
      await tun.close();
    }
  });

  it('adds routes in another table and policy rules, as `ip -j` reads them back, and removes them', async () => {
    const tun = await openTun({ name: 'tkrule0', addresses: ['10.58.0.1/24', 'fd58::1/64'] });
    const rules: config.PolicyRule[] = [
      { family: 4, priority: 5101, udpSourcePort: 51999 },
      { family: 4, priority: 5102, suppressPrefixLength: 0 },
      { family: 4, priority: 5103, table: 51999 },
      { family: 6, priority: 5103, table: 51999 },
    ];
    const ipRules = (family: string) =>
      JSON.parse(execFileSync('ip', ['-j', family, 'rule', 'show'], { encoding: 'utf8' })) as Record<string, unknown>[];
    try {
      config.addRoute('tkrule0', '0.0.0.0/0', { table: 51999 });
      config.addRoute('tkrule0', '::/0', { table: 51999 });
      assert.deepEqual(config.listRoutes('tkrule0', { table: 51999 }), ['0.0.0.0/0', '::/0']);
      assert.ok(!config.interfaceState('tkrule0').routes.includes('0.0.0.0/0'), 'not in main');
      const shown = JSON.parse(execFileSync('ip', ['-j', 'route', 'show', 'table', '51999'], { encoding: 'utf8' }));
      assert.deepEqual(
        shown.map((r: { dst: string; dev: string }) => `${r.dst} ${r.dev}`),
        ['default tkrule0'],
      );
      for (const rule of rules) config.addRule(rule);
      const v4 = ipRules('-4');
      const sport = v4.find((r) => r.priority === 5101);
      assert.equal(sport?.ipproto, 'udp');
      assert.equal(sport?.sport, 51999);
      assert.equal(sport?.table, 'main');
      assert.equal(v4.find((r) => r.priority === 5102)?.suppress_prefixlen, 0);
      assert.equal(v4.find((r) => r.priority === 5103)?.table, '51999');
      assert.equal(ipRules('-6').find((r) => r.priority === 5103)?.table, '51999');
      // The policy in action: 10.59.0.9 goes to the tunnel's table (default via tkrule0).
      const route = JSON.parse(execFileSync('ip', ['-j', 'route', 'get', '10.59.0.9'], { encoding: 'utf8' }));
      assert.equal(route[0].dev, 'tkrule0');
      assert.throws(
        () => config.addRule(rules[0] as config.PolicyRule),
        (e: TunOsError) =>
          e.errno === 'EEXIST' && e.message.includes('rule -4 pref 5101 ipproto udp sport 51999 lookup main'),
      );
      assert.throws(
        () => config.addRule({ family: 4, priority: 0 }),
        (e: TunConfigError) => e instanceof TunConfigError && e.message.includes('priority 0 is outside 1..32765'),
      );
      assert.throws(
        () => config.addRoute('tkrule0', '10.1.0.0/16', { table: 255 }),
        (e: TunConfigError) => e instanceof TunConfigError && e.message.includes('routing table 255'),
      );
    } finally {
      for (const rule of rules) {
        try {
          config.removeRule(rule);
        } catch {
          // not added
        }
      }
      await tun.close();
    }
    assert.ok(!ipRules('-4').some((r) => r.priority === 5101 || r.priority === 5102 || r.priority === 5103));
    assert.ok(!ipRules('-6').some((r) => r.priority === 5103));
  });

  it('keeps an unreachable route behind a device route: it takes over when the device goes, and is removed by its own call', async () => {
    const tun = await openTun({ name: 'tkunr0', addresses: ['10.61.0.1/24', 'fd61::1/64'] });
    const get = (address: string) =>
      execFileSync('ip', ['route', 'get', address], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const table = (family: string) =>
      execFileSync('ip', [family, 'route', 'show', 'table', '51998'], { encoding: 'utf8' }).trim();
    try {
      for (const prefix of ['10.62.0.0/16', 'fd62::/48']) {
        config.addRoute('tkunr0', prefix, { table: 51998 });
        config.addUnreachableRoute(prefix, { table: 51998 });
      }
      assert.throws(
        () => config.addUnreachableRoute('10.62.0.0/16', { table: 51998 }),
        (e: TunOsError) =>
          e.errno === 'EEXIST' &&
          e.message.includes('adding route unreachable 10.62.0.0/16 table 51998 metric 4294967295'),
      );
      assert.throws(
        () => config.addUnreachableRoute('10.62.0.0/16', { table: 51998, metric: -1 }),
        (e: TunConfigError) => e instanceof TunConfigError && e.message.includes('route metric -1'),
      );
      assert.match(table('-4'), /^10\.62\.0\.0\/16 dev tkunr0 .*\nunreachable 10\.62\.0\.0\/16 .*metric 4294967295/s);
      assert.match(table('-6'), /unreachable fd62::\/48 .*metric 4294967295/);
    } finally {
      await tun.close(); // the device goes, and its routes with it
    }
    try {
      assert.equal(table('-4'), 'unreachable 10.62.0.0/16 proto static metric 4294967295');
      assert.match(table('-6'), /^unreachable fd62::\/48 dev lo proto static metric 4294967295/);
      // Looked up in that table, the destination is refused, not routed elsewhere.
      execFileSync('ip', ['rule', 'add', 'pref', '5201', 'to', '10.62.0.0/16', 'lookup', '51998']);
      try {
        assert.throws(() => get('10.62.1.1'), /No route to host/);
      } finally {
        execFileSync('ip', ['rule', 'del', 'pref', '5201']);
      }
    } finally {
      config.removeUnreachableRoute('10.62.0.0/16', { table: 51998 });
      config.removeUnreachableRoute('fd62::/48', { table: 51998 });
    }
    assert.equal(table('-4'), '');
    assert.equal(table('-6'), '');
  });

  it('refuses bad options with typed errors naming the value', async () => {
    const cases: [Parameters<typeof openTun>[0], RegExp][] = [
      [{ queues: 0 }, /queues must be an integer in 1..64, got 0/],
      [{ queues: 65 }, /got 65/],
      [{ mtu: 67 }, /mtu must be an integer in 68..65535, got 67/],
      [{ mtu: 65536 }, /got 65536/],
      [{ addresses: ['10.0.0.1/33'] }, /'10.0.0.1\/33'/],
      [{ routes: ['nonsense'] }, /'nonsense'/],
      [{ name: 'a-name-that-is-too-long' }, /1..15 characters/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(openTun(options), (e: Error) => e instanceof TunConfigError && message.test(e.message));
    }
  });

  it('refuses a device another process holds, naming it', async () => {
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "const { openTun } = await import('./src/index.ts'); await openTun({ name: 'tkheld0' }); console.log('open'); setInterval(() => {}, 1000);",
      ],
      { cwd: packageDir, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout?.on('data', (d) => String(d).includes('open') && resolve());
        holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
      });
      await assert.rejects(
        openTun({ name: 'tkheld0' }),
        (e: TunOsError) => e instanceof TunOsError && e.errno === 'EBUSY' && e.message.includes(`pid ${holder.pid}`),
      );
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('says which privilege is missing when run without CAP_NET_ADMIN', async () => {
    const script =
      "const { openTun } = await import('./src/index.ts'); try { await openTun({ name: 'tknopriv0' }); console.log('OPENED'); } catch (e) { console.log(e.name, e.errno, e.message); }";
    // As user nobody, from a view of the checkout it can reach (see checkoutView).
    const view = checkoutView(packageDir);
    const [command, args] = view.wrap(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        process.execPath,
        '--import',
        'tsx',
        '-e',
        script,
      ],
      { cwd: packageDir },
    );
    const { stdout } = await run(command, args);
    assert.doesNotMatch(stdout, /OPENED/);
    assert.match(stdout, /TunOsError (EPERM|EACCES) .*(CAP_NET_ADMIN|root)/);
  });

  it('says /dev/net/tun is missing, and how to get it, when it is', async () => {
    // Only inside the child's own mount namespace: a tmpfs hides the real /dev/net.
    const child = spawnScript(
      "const { openTun } = await import('./src/index.ts'); try { await openTun({ name: 'tknodev0' }); console.log('OPENED'); } catch (e) { console.log(e.name, e.errno, e.syscall, e.message); }",
      {
        command: 'unshare',
        args: ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /dev/net && exec "$0" "$@"'],
      },
    );
    const line = await child.line(20_000);
    assert.match(line, /^TunOsError ENOENT open \/dev\/net\/tun is missing: load the tun module \('modprobe tun'\)/);
    assert.match(line, /--device \/dev\/net\/tun/);
    assert.equal((await child.exit()).code, 0, child.stderr());
  });

  it('leaves no fd and no thread behind after 1,000 open/close cycles', async () => {
    const warm = await openTun({ name: 'tkcycle0', queues: 2 });
    await warm.close();
    const fds = count('/proc/self/fd');
    const threads = count('/proc/self/task');
    for (let i = 0; i < 1000; i++) {
      const tun = await openTun({ name: 'tkcycle0', queues: 2, up: i % 2 === 0 });
      const pending = tun.recvMany(new PacketBatch());
      await tun.close();
      assert.ok((await pending) >= 0); // resolves (0, or a link-local packet that arrived first)
    }
    assert.equal(count('/proc/self/fd'), fds, 'fds leaked');
    assert.equal(count('/proc/self/task'), threads, 'threads leaked');
  });
});
