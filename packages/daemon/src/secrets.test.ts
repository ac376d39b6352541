// No secret in anything the daemon prints before it runs: each broken config of the shared corpus
// (a private and a preshared key in places a parser might echo) stops tunkit-gateway with one
// line naming the line and key, and neither that line nor --print-config holds a piece of either
// key; nor does the error for a key passed in a flag or a TUNKIT_* variable by mistake.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatKey, keyToHex, parseWgQuick } from '@tunkit/wireguard';
import { brokenWgQuickConfigs, leakedSecrets, secretKeys } from '@tunkit/wireguard/testing';
import { main } from './daemon.js';
import { printableConfig } from './print-config.js';
import { resolveSettings } from './settings.js';

const keys = secretKeys();
const dir = mkdtempSync(join(tmpdir(), 'tunkit-secrets-'));

function configFile(text: string): string {
  const path = join(dir, 'wg9.conf');
  writeFileSync(path, text);
  chmodSync(path, 0o600);
  return path;
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const lines: string[] = [];
  const code = await main({
    role: 'gateway',
    argv,
    env,
    out: (line) => lines.push(line),
    err: (line) => lines.push(line),
  });
  return { code, output: lines.join('\n') };
}

describe('the daemon never prints a secret key', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const { name, text, says } of brokenWgQuickConfigs(keys)) {
    it(`config: ${name}`, async () => {
      const path = configFile(text);
      for (const extra of [[], ['--print-config']]) {
        const { code, output } = await run(['--config', path, ...extra]);
        assert.equal(code, 1);
        assert.match(output, says);
        assert.deepEqual(leakedSecrets(output, keys), [], output);
      }
    });
  }

  const k = formatKey(keys.privateKey);
  const hex = keyToHex(keys.presharedKey);
  const good = `[Interface]\nPrivateKey = ${k}\n[Peer]\nPublicKey = ${formatKey(keys.peerPublicKey)}\nPresharedKey = ${formatKey(keys.presharedKey)}\nAllowedIPs = 10.1.0.2/32\n`;
  const flags: [string, string[], NodeJS.ProcessEnv][] = [
    ['--mtu', ['--mtu', k], {}],
    ['--listen-port', ['--listen-port', hex], {}],
    ['--name', ['--name', k], {}],
    ['--masquerade', ['--masquerade', k], {}],
    ['--metrics-listen', ['--metrics-listen', `${k}:1`], {}],
    ['--log-level', ['--log-level', k], {}],
    ['--udp-bind', ['--udp-bind', k], {}],
    ['TUNKIT_TUN_QUEUES', [], { TUNKIT_TUN_QUEUES: k }],
    ['TUNKIT_FORWARD', [], { TUNKIT_FORWARD: hex }],
    ['TUNKIT_OFFLOAD', [], { TUNKIT_OFFLOAD: k }],
  ];
  for (const [name, argv, env] of flags) {
    it(`a key in ${name}`, async () => {
      const { code, output } = await run(['--config', configFile(good), ...argv, '--print-config'], env);
      assert.equal(code, 1);
      assert.match(output, new RegExp(name));
      assert.deepEqual(leakedSecrets(output, keys), [], output);
    });
  }

  for (const [name, argv] of [
    ['a key as the interface argument', [k]],
    ['a key in the config path', ['--config', `/nonexistent/${k}.conf`]],
    ['a hex key in the config path', ['--config', `${dir}/${hex}`]],
    ['a path too long, ending in a key', ['--config', `/${'x'.repeat(5000)}/${k}`]],
  ] as const) {
    it(name, async () => {
      const { code, output } = await run([...argv]);
      assert.equal(code, 1);
      assert.deepEqual(leakedSecrets(output, keys), [], output);
    });
  }

  it('--print-config of a good config redacts both keys', async () => {
    const { code, output } = await run(['--config', configFile(good), '--print-config']);
    assert.equal(code, 0);
    assert.match(output, /PrivateKey = \(redacted\)/);
    assert.match(output, /PresharedKey = \(redacted\)/);
    assert.deepEqual(leakedSecrets(output, keys), [], output);
  });

  it('--print-config redacts keys inside hook commands', () => {
    const config = parseWgQuick(`${good.split('[Peer]')[0]}PostUp = wg set %i private-key <(echo ${k})\n`);
    const text = printableConfig(resolveSettings('gateway', {}, '/x/wg9.conf', config, { cpus: 1 }));
    assert.match(text, /PostUp = wg set %i private-key <\(echo \(redacted\)\)/);
    assert.deepEqual(leakedSecrets(text, keys), [], text);
  });
});
