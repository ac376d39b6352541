// Which routes a config asks for: main-table routes, default routes behind policy rules, Table=.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatKey, generatePrivateKey, parseWgQuick, publicKeyFrom } from '@tunkit/wireguard';
import { planRoutes } from './host/linux-routing.js';

const key = () => formatKey(generatePrivateKey());
const config = (extra: string, allowed: string) =>
  parseWgQuick(
    `[Interface]\nPrivateKey = ${key()}\nAddress = 10.99.0.2/24, fd99::2/64\n${extra}\n[Peer]\nPublicKey = ${formatKey(publicKeyFrom(generatePrivateKey()))}\nAllowedIPs = ${allowed}\n`,
  );

describe('planRoutes', () => {
  it('routes each AllowedIPs prefix once, skips the Address= subnets, and puts default routes behind rules', () => {
    const plan = planRoutes(config('', '10.99.0.0/24, 10.88.2.7/24, 10.88.2.0/24, fd99::/64, 0.0.0.0/0, ::/0'));
    assert.deepEqual(plan.routes, ['10.88.2.0/24']);
    assert.deepEqual(plan.defaults, [4, 6]);
    assert.equal(plan.table, 254);
  });
  it('honours Table = off and Table = <number>', () => {
    assert.deepEqual(planRoutes(config('Table = off', '10.1.0.0/16, 0.0.0.0/0')).routes, []);
    const numbered = planRoutes(config('Table = 1234', '10.1.0.0/16, 0.0.0.0/0'));
    assert.deepEqual(numbered, { routes: ['10.1.0.0/16', '0.0.0.0/0'], table: 1234, defaults: [] });
  });
});
