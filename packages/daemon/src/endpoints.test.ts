// Endpoint host names: resolved at start with wg's retries (1 s, growing 1.2×, each failure
// logged; a name that does not exist fails at once), WG_ENDPOINT_RESOLUTION_RETRIES, a reload
// keeping what it cannot resolve, and a failing peer's name looked up again at most every 15 s.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine, formatKey, generatePrivateKey, parseWgQuick, publicKeyFrom } from '@tunkit/wireguard';
import { EndpointResolver, resolutionRetries } from './endpoints.js';
import { StartupError } from './startup-error.js';

const peerKey = formatKey(publicKeyFrom(generatePrivateKey()));
const config = parseWgQuick(
  `[Interface]\nPrivateKey = ${formatKey(generatePrivateKey())}\n` +
    `[Peer]\nPublicKey = ${peerKey}\nAllowedIPs = 10.7.0.2/32\nEndpoint = gw.tunkit.test:51820\n` +
    `[Peer]\nPublicKey = ${formatKey(publicKeyFrom(generatePrivateKey()))}\nAllowedIPs = 10.7.0.3/32\nEndpoint = 192.0.2.9:1\n`,
);

const failure = (code: string) => Object.assign(new Error(`getaddrinfo ${code} gw.tunkit.test`), { code });

function harness(answers: (string | Error)[]) {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const sleeps: number[] = [];
  const asked: string[] = [];
  let clock = 0;
  const resolver = new EndpointResolver({
    log: {
      info: (fields: unknown, message?: string) =>
        lines.push({ level: 'info', fields: fields as never, message: message ?? '' }),
      warn: (fields: unknown, message?: string) =>
        lines.push({ level: 'warn', fields: fields as never, message: message ?? '' }),
    } as never,
    lookup: async (host) => {
      asked.push(host);
      const answer = answers.shift() ?? failure('EAI_AGAIN');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    now: () => clock,
  });
  return { resolver, lines, sleeps, asked, advance: (ms: number) => (clock += ms) };
}

describe('EndpointResolver', () => {
  it("retries a transient failure on wg's schedule, logging each, and resolves names only", async () => {
    const h = harness([failure('EAI_AGAIN'), failure('EAI_AGAIN'), failure('EAI_AGAIN'), '10.88.1.1']);
    const resolved = await h.resolver.resolveConfig(config, { retries: 15 });
    assert.deepEqual(resolved.peers[0]?.endpoint, { host: '10.88.1.1', port: 51820 });
    assert.deepEqual(resolved.peers[1]?.endpoint, { host: '192.0.2.9', port: 1 });
    assert.deepEqual(h.asked, Array(4).fill('gw.tunkit.test'));
    assert.deepEqual(h.sleeps.map(Math.round), [1000, 1200, 1440]);
    const warns = h.lines.filter((l) => l.level === 'warn');
    assert.equal(warns.length, 3);
    assert.deepEqual(warns[0]?.fields, {
      host: 'gw.tunkit.test',
      peer: '10.7.0.2/32',
      code: 'EAI_AGAIN',
      attempt: 1,
      retryInMs: 1000,
    });
    assert.match(warns[2]?.message ?? '', /cannot resolve Endpoint host 'gw.tunkit.test' yet: trying again in 1.44 s/);
    assert.equal(h.resolver.namedPeers, 1);
  });

  it('grows the wait up to 20 s, and stops after the retries', async () => {
    const h = harness([]);
    await assert.rejects(h.resolver.resolveConfig(config, { retries: 20 }), (error: Error) => {
      assert.ok(error instanceof StartupError);
      assert.match(
        error.message,
        /cannot resolve Endpoint host 'gw.tunkit.test' \(peer 10.7.0.2\/32\): EAI_AGAIN, after 21 attempts/,
      );
      return true;
    });
    assert.equal(h.sleeps.length, 20);
    assert.equal(Math.max(...h.sleeps), 20_000);
  });

  it('fails at once for a name that does not exist, as wg does', async () => {
    const h = harness([failure('ENOTFOUND')]);
    await assert.rejects(h.resolver.resolveConfig(config, { retries: 15 }), /ENOTFOUND, the name does not exist/);
    assert.equal(h.sleeps.length, 0);
  });

  it('keeps a peer it cannot resolve without an endpoint when asked to (a reload)', async () => {
    const h = harness([failure('EAI_AGAIN')]);
    const resolved = await h.resolver.resolveConfig(config, { retries: 0, keepUnresolved: true });
    assert.equal(resolved.peers[0]?.endpoint, undefined);
    assert.equal(h.sleeps.length, 0);
    assert.match(h.lines.at(-1)?.message ?? '', /cannot resolve Endpoint host 'gw.tunkit.test'/);
  });

  it("looks a failing peer's name up again, at most every 15 s, and moves its endpoint", async () => {
    const h = harness(['10.88.1.99', '10.88.1.99', '10.88.1.1', failure('EAI_AGAIN')]);
    const resolved = await h.resolver.resolveConfig(config, { retries: 0 });
    const engine = new Engine({ privateKey: generatePrivateKey(), mtu: 1420 });
    const first = resolved.peers[0];
    assert.ok(first?.endpoint);
    const peer = engine.addPeer(
      { publicKey: first.publicKey, endpoint: { address: first.endpoint.host, port: 51820 } },
      first.allowedIps,
    );
    const device = { engine };
    await h.resolver.reresolve(device, peer); // same address: nothing moves, nothing logged
    assert.deepEqual(peer.endpoint, { address: '10.88.1.99', port: 51820 });
    await h.resolver.reresolve(device, peer); // too soon: not even asked
    assert.equal(h.asked.length, 2);
    h.advance(15_000);
    await h.resolver.reresolve(device, peer);
    assert.deepEqual(peer.endpoint, { address: '10.88.1.1', port: 51820 });
    assert.deepEqual(h.lines.at(-1)?.fields, {
      peer: '10.7.0.2/32',
      host: 'gw.tunkit.test',
      endpoint: '10.88.1.1:51820',
      was: '10.88.1.99:51820',
    });
    h.advance(15_000);
    await h.resolver.reresolve(device, peer); // a failure is logged, the endpoint stays
    assert.deepEqual(peer.endpoint, { address: '10.88.1.1', port: 51820 });
    assert.equal(h.lines.at(-1)?.message, 'cannot resolve the endpoint host name again');
    // A peer without a host name is never looked up.
    const other = engine.addPeer({ publicKey: publicKeyFrom(generatePrivateKey()) });
    await h.resolver.reresolve(device, other);
    assert.equal(h.asked.length, 4);
  });

  it('reads WG_ENDPOINT_RESOLUTION_RETRIES as wg does', () => {
    assert.equal(resolutionRetries({}), 15);
    assert.equal(resolutionRetries({ WG_ENDPOINT_RESOLUTION_RETRIES: '3' }), 3);
    assert.equal(resolutionRetries({ WG_ENDPOINT_RESOLUTION_RETRIES: 'infinity' }), Number.POSITIVE_INFINITY);
    assert.equal(resolutionRetries({ WG_ENDPOINT_RESOLUTION_RETRIES: 'lots' }), 15);
  });
});
