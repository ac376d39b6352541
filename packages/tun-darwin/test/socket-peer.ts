// The utun side of a socketpair(AF_UNIX, SOCK_DGRAM) standing in for a utun socket in tests: it
// writes and reads whole datagrams on the peer fd with plain fs calls (independent of the code
// under test), and its reader can be stopped and resumed to make the device's writes back up.

import { closeSync, readSync, writeSync } from 'node:fs';
import { native } from '../src/native.js';

/** Darwin's address families as they appear in the utun header. */
export const DARWIN_AF_INET = 2;
export const DARWIN_AF_INET6 = 30;

/** `packet` behind a 4-byte big-endian `family`, as utun frames it. */
export function frame(family: number, packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + packet.length);
  new DataView(out.buffer).setUint32(0, family);
  out.set(packet, 4);
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isAgain(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

export class SocketPeer {
  /** Every datagram read so far, in order (while reading is on). */
  readonly frames: Uint8Array[] = [];
  private readonly buffer = new Uint8Array(70_000);
  private reading = false;
  private closed = false;
  private loop: Promise<void> | undefined;

  /** Opens the pair; `deviceFd` goes to fromFd, this object keeps the peer. */
  static open(): { deviceFd: number; peer: SocketPeer } {
    const [deviceFd, peerFd] = native().openTestSocketPair();
    return { deviceFd, peer: new SocketPeer(peerFd) };
  }

  private constructor(readonly fd: number) {}

  /** Writes one datagram, waiting while the device's receive queue is full. */
  async write(datagram: Uint8Array): Promise<void> {
    for (;;) {
      try {
        writeSync(this.fd, datagram);
        return;
      } catch (error) {
        if (!isAgain(error)) throw error;
        await sleep(1);
      }
    }
  }

  /** Starts (or resumes) reading datagrams into `frames`. */
  startReading(): void {
    if (this.reading || this.closed) return;
    this.reading = true;
    this.loop = (async () => {
      while (this.reading) {
        let got = false;
        for (;;) {
          let n: number;
          try {
            n = readSync(this.fd, this.buffer);
          } catch (error) {
            if (isAgain(error)) break;
            throw error;
          }
          this.frames.push(this.buffer.slice(0, n));
          got = true;
        }
        await sleep(got ? 0 : 1);
      }
    })();
  }

  /** Stops reading; datagrams then pile up in the kernel until the device's writes back up. */
  async stopReading(): Promise<void> {
    this.reading = false;
    await this.loop;
  }

  /** Waits until `frames` holds at least `count` datagrams; rejects after `timeoutMs`. */
  async waitForFrames(count: number, timeoutMs = 5_000): Promise<Uint8Array[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (Date.now() > deadline) throw new Error(`the peer read ${this.frames.length} of ${count} datagrams`);
      await sleep(2);
    }
    return this.frames;
  }

  async close(): Promise<void> {
    await this.stopReading();
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
  }
}
