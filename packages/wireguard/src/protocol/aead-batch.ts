// Sealing and opening a whole batch of transport packets at once. The Engine describes the work as
// AeadJobs (regions of one buffer, each with its key and counter) and one backend call does it:
// the native addon (ChaCha20-Poly1305 through the OpenSSL inside Node, one N-API call per batch,
// in place, no allocation), or node:crypto one packet at a time where the addon is not built.

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { native, nativeLoadFailure } from '../native.js';
import { counterNonce, TAG_LENGTH } from './crypto.js';

/** The jobs of one batch: job i is `lengths[i]` bytes at `offsets[i]` of the buffer, tag after. */
export class AeadJobs {
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly counterLo: Uint32Array;
  readonly counterHi: Uint32Array;
  readonly keyIndex: Uint16Array;
  /** 32 bytes per distinct key of the batch. */
  readonly keys: Uint8Array;
  /** After open: 1 where job i authenticated. */
  readonly ok: Uint8Array;
  count = 0;
  private keyCount = 0;
  private lastKey: Uint8Array | undefined;

  constructor(readonly capacity: number) {
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.counterLo = new Uint32Array(capacity);
    this.counterHi = new Uint32Array(capacity);
    this.keyIndex = new Uint16Array(capacity);
    this.keys = new Uint8Array(32 * capacity);
    this.ok = new Uint8Array(capacity);
  }

  clear(): void {
    this.count = 0;
    this.keyCount = 0;
    this.lastKey = undefined;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Adds a job; consecutive jobs under the same key share its slot. Returns the job's index. */
  add(key: Uint8Array, counter: number, offset: number, length: number): number {
    if (key !== this.lastKey) {
      this.keys.set(key, 32 * this.keyCount);
      this.keyCount++;
      this.lastKey = key;
    }
    const i = this.count++;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.counterLo[i] = counter >>> 0;
    this.counterHi[i] = Math.floor(counter / 2 ** 32);
    this.keyIndex[i] = this.keyCount - 1;
    return i;
  }
}

export interface AeadBackend {
  readonly name: string;
  /** Encrypts every job in place and writes its tag after it. */
  seal(buffer: Uint8Array, jobs: AeadJobs): void;
  /** Decrypts every job in place; sets jobs.ok[i]. Returns how many authenticated. */
  open(buffer: Uint8Array, jobs: AeadJobs): number;
}

const NO_AAD = Buffer.alloc(0);

/** node:crypto, a cipher object per packet (about 9 µs for 1,400 bytes): the portable fallback. */
export const nodeCryptoAead: AeadBackend = {
  name: 'node:crypto',
  seal(buffer, jobs) {
    const nonce = Buffer.alloc(12);
    for (let i = 0; i < jobs.count; i++) {
      const start = jobs.offsets[i] as number;
      const length = jobs.lengths[i] as number;
      const key = jobs.keys.subarray(32 * (jobs.keyIndex[i] as number), 32 * (jobs.keyIndex[i] as number) + 32);
      const counter = (jobs.counterLo[i] as number) + (jobs.counterHi[i] as number) * 2 ** 32;
      const cipher = createCipheriv('chacha20-poly1305', key, counterNonce(counter, nonce), {
        authTagLength: TAG_LENGTH,
      });
      cipher.setAAD(NO_AAD, { plaintextLength: length });
      const body = buffer.subarray(start, start + length);
      const encrypted = cipher.update(body);
      body.set(encrypted);
      const rest = cipher.final();
      if (rest.length > 0) body.set(rest, encrypted.length);
      buffer.set(cipher.getAuthTag(), start + length);
    }
  },
  open(buffer, jobs) {
    const nonce = Buffer.alloc(12);
    let opened = 0;
    for (let i = 0; i < jobs.count; i++) {
      const start = jobs.offsets[i] as number;
      const length = jobs.lengths[i] as number;
      const key = jobs.keys.subarray(32 * (jobs.keyIndex[i] as number), 32 * (jobs.keyIndex[i] as number) + 32);
      const counter = (jobs.counterLo[i] as number) + (jobs.counterHi[i] as number) * 2 ** 32;
      const decipher = createDecipheriv('chacha20-poly1305', key, counterNonce(counter, nonce), {
        authTagLength: TAG_LENGTH,
      });
      decipher.setAAD(NO_AAD, { plaintextLength: length });
      decipher.setAuthTag(buffer.subarray(start + length, start + length + TAG_LENGTH));
      try {
        const plain = decipher.update(buffer.subarray(start, start + length));
        decipher.final();
        buffer.set(plain, start);
        jobs.ok[i] = 1;
        opened++;
      } catch {
        jobs.ok[i] = 0;
      }
    }
    return opened;
  },
};

/**
 * Calls an addon method with the jobs' tables as its arguments, spelled out rather than spread
 * from an array, so that nothing is allocated per batch. The last, `ok`, is read by openMany only.
 */
function callWithJobs<T>(method: (...args: unknown[]) => T, buffer: Uint8Array, jobs: AeadJobs): T {
  return method(
    buffer,
    jobs.offsets,
    jobs.lengths,
    jobs.counterLo,
    jobs.counterHi,
    jobs.keyIndex,
    jobs.keys,
    jobs.count,
    jobs.ok,
  );
}

/** The addon (packages/wireguard/native), or undefined when it is not built for this platform. */
export function loadNativeAead(): AeadBackend | undefined {
  if (nativeLoadFailure() !== undefined) return undefined;
  const addon = native();
  return {
    name: `native (${addon.openssl})`,
    seal: (buffer, jobs) => callWithJobs(addon.sealMany, buffer, jobs),
    open: (buffer, jobs) => callWithJobs(addon.openMany, buffer, jobs),
  };
}

let chosen: AeadBackend | undefined;

/** The native backend when built, else node:crypto. TUNKIT_AEAD=node-crypto forces the fallback. */
export function defaultAead(): AeadBackend {
  chosen ??= (process.env.TUNKIT_AEAD !== 'node-crypto' ? loadNativeAead() : undefined) ?? nodeCryptoAead;
  return chosen;
}
