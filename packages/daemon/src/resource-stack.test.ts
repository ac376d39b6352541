// The ResourceStack: what start() acquired is released newest first, once, whatever ends the run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ReleaseReport, ResourceStack, StartCancelled } from './resource-stack.js';

describe('ResourceStack', () => {
  it('releases newest first, each once, however often it is unwound', async () => {
    const stack = new ResourceStack();
    const released: string[] = [];
    for (const what of ['journal', 'tun', 'socket']) {
      await stack.acquire(
        what,
        () => what,
        (r) => released.push(r),
      );
    }
    assert.deepEqual(stack.holding, ['journal', 'tun', 'socket']);
    await Promise.all([stack.unwind(), stack.unwind()]);
    await stack.unwind();
    assert.deepEqual(released, ['socket', 'tun', 'journal']);
    assert.deepEqual(stack.holding, []);
  });

  it('reports a release that throws and still releases the rest', async () => {
    const stack = new ResourceStack();
    const released: string[] = [];
    stack.hold('journal', () => released.push('journal'));
    stack.hold('uapi', async () => {
      throw new Error('EBUSY');
    });
    stack.hold('metrics', () => released.push('metrics'));
    const reports: ReleaseReport[] = [];
    await stack.unwind((r) => reports.push(r));
    assert.deepEqual(released, ['metrics', 'journal']);
    assert.deepEqual(
      reports.map((r) => [r.what, (r.error as Error | undefined)?.message]),
      [
        ['metrics', undefined],
        ['uapi', 'EBUSY'],
        ['journal', undefined],
      ],
    );
  });

  it('holds nothing that fails to be acquired', async () => {
    const stack = new ResourceStack();
    stack.hold('journal', () => {});
    await assert.rejects(
      stack.acquire(
        'tun',
        () => {
          throw new Error('EBUSY');
        },
        () => assert.fail('never acquired, never released'),
      ),
      /EBUSY/,
    );
    assert.deepEqual(stack.holding, ['journal']);
  });

  it('once cancelled, acquires nothing more, and releases what was acquired while the cancel came', async () => {
    const cancel = new AbortController();
    const stack = new ResourceStack(cancel.signal);
    const released: string[] = [];
    await assert.rejects(
      stack.acquire(
        'tun',
        () => {
          cancel.abort('SIGTERM');
          return 'tun';
        },
        (r) => released.push(r),
      ),
      (error) => error instanceof StartCancelled && /before tun: SIGTERM/.test(error.message),
    );
    let called = false;
    await assert.rejects(
      stack.acquire(
        'socket',
        () => {
          called = true;
        },
        () => {},
      ),
      StartCancelled,
    );
    assert.equal(called, false);
    assert.throws(() => stack.throwIfCancelled('routes'), StartCancelled);
    await stack.unwind();
    assert.deepEqual(released, ['tun']);
  });

  it('refuses to hold anything once the unwinding started', async () => {
    const stack = new ResourceStack();
    const unwound = stack.unwind();
    assert.throws(() => stack.hold('late', () => {}), /while the daemon's resources are being released/);
    await unwound;
  });
});
