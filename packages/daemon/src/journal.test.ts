// The host-change journal: written before each change, undone newest first, gone when empty.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { currentNetns, type HostChange, Journal, tablesInUse } from './journal.js';

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
    again.record({ kind: 'dns', link: 'tk9' }); // the next run records on the same object
    assert.deepEqual(JSON.parse(readFileSync(again.path, 'utf8')).changes, [{ kind: 'dns', link: 'tk9' }]);
  });

  it('records and forgets many changes with one write each, and undoes them all with one write at the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-journal-'));
    const journal = Journal.open('tk8', dir);
    const twins = Array.from({ length: 10_000 }, (_, i) => ({
      kind: 'unreachable-route' as const,
      table: 51820,
      prefix: `10.${i >> 8}.${i & 255}.1/32`,
    }));
    const started = performance.now();
    journal.recordAll(twins);
    journal.forgetAll(twins.slice(0, 5_000));
    assert.equal(Journal.open('tk8', dir).pending.length, 5_000);
    let undone = 0;
    await journal.undoAll(
      () => {
        undone++;
        assert.ok(existsSync(journal.path), 'the file stays until every change is undone');
      },
      () => {},
    );
    assert.equal(undone, 5_000);
    assert.equal(existsSync(journal.path), false);
    // One write per call: a write per change would rewrite a file of up to 10,000 entries 20,000
    // times (minutes); this bound is generous for a loaded machine.
    assert.ok(performance.now() - started < 2000, `${Math.round(performance.now() - started)} ms`);
  });

  it('tells which routing tables the other live daemons of this network namespace use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-journal-'));
    const rule = (table: number) => ({ kind: 'rule', family: 4, priority: 31002, table });
    const write = (name: string, pid: number, netns: number | undefined, table: number) =>
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ pid, netns, changes: [rule(table)] }));
    const here = currentNetns();
    write('live', process.ppid, here, 51820); // a live process, in this namespace
    write('old', process.ppid, undefined, 51822); // a journal from before namespaces were written
    write('elsewhere', process.ppid, (here ?? 0) + 1, 51821); // another namespace
    write('dead', 2 ** 22 + 1, here, 51823); // above pid_max: no such process
    write('self', process.pid, here, 51824); // this process
    write('me', process.ppid, here, 51825); // the interface asking
    assert.deepEqual([...tablesInUse('me', dir)].sort(), [51820, 51822]);
    const journal = Journal.open('tk9', dir);
    journal.record({ kind: 'rule', family: 6, priority: 31000, udpSourcePort: 1 });
    assert.equal(JSON.parse(readFileSync(journal.path, 'utf8')).netns, here);
  });
});
