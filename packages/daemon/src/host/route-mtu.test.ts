// wg-quick's MTU: the largest MTU of the routes to the endpoints (the route's own, else its
// device's), else the default route's, else 1500; minus 80.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mtuFromRoutes, type RunIp } from './route-mtu.js';

/** `ip` answering from a table of argument lists. */
function ip(answers: Record<string, string>): RunIp & { asked: string[] } {
  const asked: string[] = [];
  const run = async (args: string[]) => {
    const key = args.join(' ');
    asked.push(key);
    const answer = answers[key];
    if (answer === undefined) throw new Error(`RTNETLINK answers: Network is unreachable\n`);
    return answer;
  };
  return Object.assign(run, { asked });
}

describe('mtuFromRoutes', () => {
  it("takes a route's own MTU, else its device's, the largest over the endpoints, minus 80", async () => {
    const run = ip({
      '-j route get 10.88.1.1': '[{"dst":"10.88.1.1","dev":"c0","metrics":[{"mtu":1400}]}]',
      '-j route get fd88::1': '[{"dst":"fd88::1","dev":"c1"}]',
      '-j link show dev c1': '[{"ifname":"c1","mtu":1380}]',
    });
    assert.deepEqual(await mtuFromRoutes(['10.88.1.1', 'fd88::1', '10.88.1.1'], () => {}, run), {
      mtu: 1320,
      from: 'route to 10.88.1.1',
    });
    assert.deepEqual(run.asked, ['-j route get 10.88.1.1', '-j route get fd88::1', '-j link show dev c1']);
  });

  it('falls back to the default route, then to 1500, saying why', async () => {
    const warnings: string[] = [];
    const withDefault = ip({
      '-j route show default': '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0"}]',
      '-j link show dev eth0': '[{"ifname":"eth0","mtu":9000}]',
    });
    assert.deepEqual(await mtuFromRoutes(['203.0.113.5'], (m) => warnings.push(m), withDefault), {
      mtu: 8920,
      from: 'default route',
    });
    assert.deepEqual(warnings, [
      'cannot read the route to 203.0.113.5 for the MTU: RTNETLINK answers: Network is unreachable',
    ]);
    assert.deepEqual(await mtuFromRoutes([], () => {}, ip({ '-j route show default': '[]' })), {
      mtu: 1420,
      from: 'fallback 1500',
    });
  });
});
