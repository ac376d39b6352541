// Two Engines on a fake clock that pass batches by hand: the harness of the Engine tests (no I/O).
// Engine a (10.9.0.1, at ENDPOINT_A) knows b's endpoint and initiates; b (10.9.0.2, at ENDPOINT_B)
// learns a's from the handshake.
import { PacketBatch } from '@tunkit/tun-core';
import { sequencePacket } from '@tunkit/tun-core/testing';
import type { Endpoint } from '../bind/bind.js';
import type { AeadBackend } from '../protocol/aead-batch.js';
import type { TimerSettings } from '../protocol/constants.js';
import { Engine } from '../protocol/engine.js';
import { generatePrivateKey, publicKeyFrom } from '../protocol/keys.js';
import type { Peer } from '../protocol/peer.js';

/** Where engine a sends from, as b sees it. */
export const ENDPOINT_A: Endpoint = { address: '10.0.0.1', port: 1 };
/** Where engine b listens, as a knows it. */
export const ENDPOINT_B: Endpoint = { address: '10.0.0.2', port: 2 };

export interface EnginePairOptions {
  underLoad?: boolean;
  /** Timer overrides for a (the initiator) and b (the responder). */
  timersA?: Partial<TimerSettings>;
  timersB?: Partial<TimerSettings>;
  mtuB?: number;
  random?: (n: number) => Uint8Array;
  /**
   * The fake clock's first reading in ms (default 1000). A fraction makes every reading a double,
   * as performance.now's are, which integer readings would not show (a double passed from call
   * to call is boxed each time).
   */
  startAt?: number;
  /** Both engines' AEAD backend (default: the Engine's default). */
  aead?: AeadBackend;
}

export function enginePair(options: EnginePairOptions = {}) {
  let now = options.startAt ?? 1_000;
  const clock = () => now;
  const aKey = generatePrivateKey();
  const bKey = generatePrivateKey();
  const timers = { rekeyTimeout: 5_000, jitterMax: 0 };
  const a = new Engine({
    privateKey: aKey,
    mtu: 1420,
    now: clock,
    timers: { ...timers, ...options.timersA },
    ...(options.random ? { random: options.random } : {}),
    ...(options.aead ? { aead: options.aead } : {}),
  });
  const b = new Engine({
    privateKey: bKey,
    mtu: options.mtuB ?? 1420,
    now: clock,
    timers: { ...timers, ...options.timersB },
    underLoad: () => options.underLoad ?? false,
    ...(options.aead ? { aead: options.aead } : {}),
  });
  a.addPeer({ publicKey: publicKeyFrom(bKey), endpoint: ENDPOINT_B }, ['10.9.0.2/32']);
  b.addPeer({ publicKey: publicKeyFrom(aKey) }, ['10.9.0.1/32']);
  /** Delivers `out` (datagrams from `sender`) to `receiver`; returns what the receiver answered and wrote to its TUN. */
  const deliver = (receiver: Engine, out: PacketBatch, sender: Endpoint) => {
    const replies = new PacketBatch({ capacity: 300 });
    const tun = new PacketBatch({ capacity: 300 });
    const to: Endpoint[] = [];
    receiver.receiveBatch(out, new Array(out.length).fill(sender), tun, replies, to);
    receiver.processHandshakes(replies, to); // what the Device's handshake turns do, all at once
    return { replies, tun };
  };
  const send = (engine: Engine, seqs: number[], size = 100) => {
    const packets = new PacketBatch({ capacity: 200 });
    // a sends 10.9.0.1 → 10.9.0.2, b the other way.
    const [src, dst] =
      engine === a
        ? [
            [10, 9, 0, 1],
            [10, 9, 0, 2],
          ]
        : [
            [10, 9, 0, 2],
            [10, 9, 0, 1],
          ];
    for (const s of seqs) packets.push(sequencePacket(s, size, src as number[], dst as number[]));
    const out = new PacketBatch({ capacity: 300 });
    engine.sealBatch(packets, [], out, []);
    return out;
  };
  const tick = (engine: Engine) => {
    const out = new PacketBatch({ capacity: 300 });
    engine.tick(out, []);
    return out;
  };
  /** Runs a handshake (a initiates with packet `seq`, delivered to b) and returns b's view of a. */
  const handshake = (seq = 0) => {
    const flushed = deliver(a, deliver(b, send(a, [seq]), ENDPOINT_A).replies, ENDPOINT_B).replies;
    deliver(b, flushed, ENDPOINT_A);
    return [...b.peers()][0] as Peer;
  };
  return { a, b, deliver, send, tick, handshake, advance: (ms: number) => (now += ms) };
}
