// The tun-core contract suite against DarwinTun's fd-readiness loop with Darwin framing, over a
// socketpair standing in for utun: the peer frames what it injects with the family header and
// checks it on what it collects, and its reader can pause, so the strong backpressure test runs.
// The device ends by itself as a utun does when the kernel disconnects its socket: shut down.
import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';
import {
  readSequence,
  sequencePacket,
  type TunHarness,
  takeCollected,
  tunContractSuite,
} from '@tunkit/tun-core/testing';
import { fromFd } from '../src/index.js';
import { native } from '../src/native.js';
import { DARWIN_AF_INET, frame, SocketPeer } from './socket-peer.js';

async function socketPairHarness(): Promise<TunHarness> {
  const { deviceFd, peer } = SocketPeer.open();
  const tun = fromFd(deviceFd, { name: 'utun-contract', mtu: 1420 });
  // fromFd works on a dup (a Network Extension keeps its fd); this one stays open only so the
  // harness can shut the socket both share, as the kernel does to a utun whose interface goes.
  const received: number[] = [];
  let seen = 0;
  const collectFrames = () => {
    for (; seen < peer.frames.length; seen++) {
      const f = peer.frames[seen] as Uint8Array;
      assert.equal(new DataView(f.buffer, f.byteOffset).getUint32(0), DARWIN_AF_INET, 'IPv4 frames carry family 2');
      const seq = readSequence(f.subarray(4));
      if (seq !== undefined) received.push(seq);
    }
  };
  peer.startReading();
  return {
    tun,
    inject: (seq, size) => peer.write(frame(DARWIN_AF_INET, sequencePacket(seq, size, [10, 9, 0, 2], [10, 9, 0, 1]))),
    outbound: (seq, size) => sequencePacket(seq, size, [10, 9, 0, 1], [10, 9, 0, 2]),
    async collect(count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count && Date.now() < deadline) {
        collectFrames();
        await new Promise((r) => setTimeout(r, 2));
      }
      collectFrames();
      return takeCollected(received, count, 0);
    },
    pauseOtherSide: () => void peer.stopReading(),
    resumeOtherSide: () => peer.startReading(),
    endByItself() {
      native().shutdownTestSocket(deviceFd);
      return 'EOF';
    },
    async dispose() {
      closeSync(deviceFd);
      await peer.close();
    },
  };
}

tunContractSuite('DarwinTun (Darwin framing over a socketpair)', socketPairHarness);
