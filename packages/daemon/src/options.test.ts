// Options, settings and the config file: precedence, strictness, one-line errors naming the value.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatKey, generatePrivateKey, parseWgQuick, publicKeyFrom } from '@tunkit/wireguard';
import { interfaceArgument, parseCommandLine } from './cli.js';
import { checkConfigMode, readConfigFile } from './config-file.js';
import { main } from './daemon.js';
import { printableConfig } from './print-config.js';
import { resolveSettings } from './settings.js';
import { StartupError } from './startup-error.js';

const privateKey = formatKey(generatePrivateKey());
const presharedKey = formatKey(generatePrivateKey());
const peerKey = formatKey(publicKeyFrom(generatePrivateKey()));
const text = `[Interface]\nPrivateKey = ${privateKey}\nListenPort = 51820\nAddress = 10.99.0.1/24\nMTU = 1400\n\n[Peer]\nPublicKey = ${peerKey}\nPresharedKey = ${presharedKey}\nAllowedIPs = 10.99.0.2/32\n`;
const config = parseWgQuick(text);

function configFile(mode: number): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tunkit-daemon-')), 'wg7.conf');
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

async function run(role: 'gateway' | 'headless', argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main({ role, argv, env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('daemon options', () => {
  it('takes flags over TUNKIT_* variables over the file over defaults', () => {
    const values = parseCommandLine('gateway', ['--mtu', '1300'], {
      TUNKIT_MTU: '1350',
      TUNKIT_LOG_LEVEL: 'debug',
      TUNKIT_FORWARD: 'yes',
    });
    const s = resolveSettings('gateway', values, '/etc/wireguard/wg3.conf', config, { cpus: 2 });
    assert.equal(s.mtu, 1300);
    assert.equal(s.logLevel, 'debug');
    assert.equal(s.forward, true);
    assert.equal(s.listenPort, 51820); // from the file
    assert.equal(s.name, 'wg3'); // from the file name
    assert.equal(s.tunQueues, 2);
    assert.equal(s.udpThreads, 1);
    assert.equal(resolveSettings('headless', {}, '/x/wg3.conf', config, { cpus: 1 }).tunQueues, 1);
    assert.equal(
      resolveSettings('gateway', parseCommandLine('gateway', ['--udp-threads', '4'], {}), '/x/wg3.conf', config)
        .udpThreads,
      4,
    );
    assert.equal(resolveSettings('headless', {}, '/x/wg3.conf', config).mtu, 1400);
  });

  it('refuses unknown options, gateway-only options on the client, and bad values, naming them', () => {
    assert.throws(
      () => parseCommandLine('gateway', ['--bogus'], {}),
      /unknown option --bogus: see tunkit-gateway --help/,
    );
    assert.throws(() => parseCommandLine('headless', ['--masquerade', 'eth0'], {}), /unknown option --masquerade/);
    assert.throws(() => parseCommandLine('gateway', ['--forward=1'], {}), StartupError);
    assert.throws(
      () => parseCommandLine('gateway', [], { TUNKIT_FORWARD: 'maybe' }),
      /TUNKIT_FORWARD='maybe' is not a switch value/,
    );
    const bad = (values: Record<string, string>, pattern: RegExp) =>
      assert.throws(() => resolveSettings('gateway', values, '/x/wg0.conf', config), pattern);
    bad({ mtu: '9x' }, /--mtu \(or TUNKIT_MTU\) '9x' is not an integer in 68\.\.65535/);
    bad({ 'tun-queues': '65' }, /'65' is not an integer in 1\.\.64/);
    bad({ 'udp-threads': '17' }, /--udp-threads \(or TUNKIT_UDP_THREADS\) '17' is not an integer in 1\.\.16/);
    bad({ 'log-level': 'loud' }, /--log-level \(or TUNKIT_LOG_LEVEL\) 'loud' is not one of/);
    bad({ 'metrics-listen': 'nowhere' }, /--metrics-listen \(or TUNKIT_METRICS_LISTEN\) 'nowhere' is not host:port/);
    bad({ name: 'a-name-longer-than-15' }, /interface name 'a-name-longer-than-15' is not valid/);
  });

  it('refuses a config file whose private key its group or everyone can read, saying how to fix it', async () => {
    assert.throws(
      () => checkConfigMode('/x.conf', 0o100644),
      /its group and everyone can access it \(mode 0644\); fix with 'chmod 600 \/x.conf'/,
    );
    assert.throws(() => checkConfigMode('/x.conf', 0o100640), /its group can access it/);
    checkConfigMode('/x.conf', 0o100600);
    const loose = configFile(0o644);
    await assert.rejects(readConfigFile(loose), /chmod 600/);
    assert.ok((await readConfigFile(configFile(0o600))).peers.length === 1);
    await assert.rejects(readConfigFile('/nonexistent/wg0.conf'), /config file \/nonexistent\/wg0.conf does not exist/);
  });

  it('checks the mode before parsing: a loose file is refused for its mode even when its content is bad', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tunkit-daemon-')), 'wg8.conf');
    writeFileSync(path, '[Interface]\nPrivateKey = not-a-key\nBogus = 1\n');
    chmodSync(path, 0o644);
    await assert.rejects(readConfigFile(path), /refusing .*wg8\.conf: it holds a private key .*chmod 600/);
  });

  it('prints one line per startup error and exits 1; --help and --print-config exit 0', async () => {
    const missing = await run('headless', []);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.err,
      'tunkit-headless: no configuration: pass the interface (tunkit-headless wg0 reads /etc/wireguard/wg0.conf), --config <wg-quick file> or TUNKIT_CONFIG; see --help',
    );
    const unknown = await run('gateway', ['--frobnicate']);
    assert.equal(unknown.err.split('\n').length, 1);
    const badKey = join(mkdtempSync(join(tmpdir(), 'tunkit-daemon-')), 'bad.conf');
    writeFileSync(badKey, '[Interface]\nPrivateKey = not-a-key\n', { mode: 0o600 });
    const bad = await run('gateway', ['--config', badKey]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^tunkit-gateway: config .*bad\.conf: line 2: PrivateKey is not a valid key/);
    assert.ok(!bad.err.includes('not-a-key'), 'never echoes a key value');
    const help = await run('gateway', ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /--masquerade <iface>/);
    assert.doesNotMatch((await run('headless', ['--help'])).out, /masquerade/);
    const printed = await run('gateway', ['--config', configFile(0o600), '--listen-port', '5555', '--print-config']);
    assert.equal(printed.code, 0);
    assert.match(printed.out, /ListenPort = 5555/);
    assert.match(printed.out, /PrivateKey = \(redacted\)/);
    assert.match(printed.out, /PresharedKey = \(redacted\)/);
    assert.ok(!printed.out.includes(privateKey) && !printed.out.includes(presharedKey), 'secret keys never printed');
  });

  it('takes the interface or its config file as the one argument, as wg-quick does', () => {
    const env = {};
    assert.deepEqual(
      [parseCommandLine('gateway', ['wg0'], env).config, parseCommandLine('gateway', ['wg0'], env).name],
      ['/etc/wireguard/wg0.conf', 'wg0'],
    );
    const inLocal = interfaceArgument('tunkit-gateway', 'wg1', {}, (p) => p === '/usr/local/etc/wireguard/wg1.conf');
    assert.deepEqual(inLocal, { config: '/usr/local/etc/wireguard/wg1.conf', name: 'wg1' });
    assert.deepEqual(
      parseCommandLine('headless', ['/tmp/x/wg5.conf', '--log-level', 'debug'], env).config,
      '/tmp/x/wg5.conf',
    );
    assert.equal(parseCommandLine('headless', ['wg5.conf'], env).config, 'wg5.conf');
    assert.equal(
      parseCommandLine('gateway', ['wg0'], { TUNKIT_CONFIG: '/other.conf' }).config,
      '/etc/wireguard/wg0.conf',
    );
    assert.equal(parseCommandLine('gateway', ['wg0', '--name', 'wg0'], env).name, 'wg0');
    const refused: [string[], RegExp][] = [
      [['wg0', '--config', '/x.conf'], /^'wg0' and --config both name a config: pass one/],
      [['wg0', 'wg1'], /^unexpected argument 'wg1': tunkit-gateway takes one interface name or config file/],
      [['wg0', '--name', 'wg9'], /^the interface is 'wg0' or --name 'wg9': pass one/],
      [['not a name!'], /is neither an interface name .* nor a config file path/],
    ];
    for (const [argv, message] of refused) {
      assert.throws(
        () => parseCommandLine('gateway', argv, env),
        (e: Error) => e instanceof StartupError && message.test(e.message),
        argv.join(' '),
      );
    }
  });

  it('--version prints the version the app passes (its package.json) and exits 0', async () => {
    const out: string[] = [];
    const code = await main({
      role: 'gateway',
      argv: ['--version'],
      version: '9.8.7',
      env: {},
      out: (l) => out.push(l),
    });
    assert.equal(code, 0);
    assert.deepEqual(out, ['tunkit-gateway 9.8.7']);
    assert.match((await run('headless', ['--help'])).out, /--version/);
  });

  it('print-config shows our public key for the peer to use', () => {
    const s = resolveSettings('gateway', {}, '/x/wg0.conf', config);
    assert.match(
      printableConfig(s),
      new RegExp(`# PublicKey = ${formatKey(publicKeyFrom(config.interface.privateKey)).replace(/[+/]/g, '\\$&')}`),
    );
  });
});
