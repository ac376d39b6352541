// The host-change journal: written before each change, undone newest first, gone when empty.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type HostChange, Journal } from './journal.js';

describe('Journal', () => {
  it('survives a restart and undoes newest first, reporting failures without stopping', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-journal-'));
    const first = Journal.open('tk9', dir);
    assert.equal(first.pending.length, 0);
    first.record({ kind: 'sysctl', path: '/proc/sys/net/ipv4/ip_forward', previous: '0' });
    first.record({ kind: 'nft-table', family: 'inet', table: 'tunkit_tk9' });
    first.record({ kind: 'rule', family: 4, priority: 31000, udpSourcePort: 40000 });
    assert.equal(JSON.parse(readFileSync(first.path, 'utf8')).pid, process.pid);
    const again = Journal.open('tk9', dir); // as after a kill -9
    assert.equal(again.pending.length, 3);
    assert.equal(again.ownerAlive(), false, 'this very process does not count as another owner');
    const undone: HostChange['kind'][] = [];
    const failed: HostChange['kind'][] = [];
    await again.undoAll(
      (change) => {
        undone.push(change.kind);
        if (change.kind === 'nft-table') throw new Error('nft is gone');
      },
      (change) => failed.push(change.kind),
    );
    assert.deepEqual(undone, ['rule', 'nft-table', 'sysctl']);
    assert.deepEqual(failed, ['nft-table']);
    assert.equal(existsSync(again.path), false);
  });
});
