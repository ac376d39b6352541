// What the native data plane and the Engine must agree on, checked without privileges: a keypair's
// replay window moves between them (state() → setKeypairs, exportKeypair → the next data plane),
// so both must have the same window, words and largest counter. The data plane itself (ports,
// threads) is tested in native/test and, over real TUNs, by test/privileged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { native, nativeLoadFailure } from '../native.js';
import { MAX_COUNTER, REPLAY_WINDOW, REPLAY_WORDS, ReplayWindow } from '../protocol/replay.js';

const replay = nativeLoadFailure() === undefined ? native().dataPlaneReplay : undefined;

describe('native data plane and Engine agree', {
  skip: replay ? undefined : `no native data plane here (${nativeLoadFailure() ?? process.platform})`,
}, () => {
  it('on the replay window: its size, its words, its largest counter', () => {
    assert.deepEqual(replay, { window: REPLAY_WINDOW, words: REPLAY_WORDS, maxCounter: MAX_COUNTER });
    assert.equal(new ReplayWindow().state().bitmap.length, REPLAY_WORDS);
  });
});
