// Decoder fuzzing: random and mutated datagrams into Engines that know each other. The seeds are
// genuine messages of all four types, collected from real handshakes: initiations and transport
// data (to the responder, after a completed handshake), and a response and a cookie reply to a
// second initiator whose handshake is kept in flight (so they reach a live index). Half the inputs arrive "under load" (so MAC2 and the cookie path run),
// from varied senders (IPv4, IPv6, link-local with a zone, unparseable). Every input must be
// dropped with a counted reason or handled; nothing may throw. Used by the smoke test (10^4
// inputs) and by bench/fuzz (10^6 and more).

import { randomBytes } from 'node:crypto';
import { PacketBatch } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import { Engine } from '../protocol/engine.js';
import { generatePrivateKey, publicKeyFrom } from '../protocol/keys.js';
import { messageType } from '../protocol/messages.js';

export type FuzzedKind = 'initiation' | 'response' | 'cookie-reply' | 'transport' | 'other';

export interface FuzzResult {
  inputs: number;
  dropped: number;
  /** Drop reasons summed over the engines. */
  reasons: Record<string, number>;
  /** Inputs per message kind their framing (type byte, reserved bytes, length) made them. */
  kinds: Record<FuzzedKind, number>;
  /** Inputs delivered while the receiving engine was under load. */
  underLoad: number;
}

const KINDS: FuzzedKind[] = ['other', 'initiation', 'response', 'cookie-reply', 'transport'];

/** Senders the inputs come from; the last two exercise address parsing for the cookie. */
const SOURCES: Endpoint[] = [
  { address: '10.0.0.1', port: 51820 },
  { address: '192.0.2.77', port: 4000 },
  { address: 'fd00::1', port: 51820 },
  { address: 'fe80::1%eth0', port: 51820 },
  { address: '::ffff:10.0.0.9', port: 9 },
  { address: 'not-an-address', port: 1 },
];

const copyOf = (batch: PacketBatch): Uint8Array[] => [...batch].map((m) => m.slice());

/** Builds real messages of every type (see the header), then fuzzes. */
export function fuzzEngine(inputs: number, seedMessages = 8): FuzzResult {
  let load = false;
  const underLoad = () => load;
  const initiatorKey = generatePrivateKey();
  const responderKey = generatePrivateKey();
  const initiator = new Engine({ privateKey: initiatorKey, mtu: 1420, underLoad });
  const responder = new Engine({ privateKey: responderKey, mtu: 1420, underLoad });
  const initiatorAt: Endpoint = { address: '10.0.0.1', port: 51820 };
  const responderAt: Endpoint = { address: '10.0.0.2', port: 51820 };
  responder.addPeer({ publicKey: publicKeyFrom(initiatorKey) }, ['10.9.0.1/32']);
  initiator.addPeer({ publicKey: publicKeyFrom(responderKey), endpoint: responderAt }, ['10.9.0.2/32']);

  const out = new PacketBatch({ capacity: 256 });
  const tunOut = new PacketBatch({ capacity: 256 });
  const replies = new PacketBatch({ capacity: 256 });
  const to: Endpoint[] = [];
  const deliver = (engine: Engine, batch: PacketBatch, from: Endpoint) => {
    tunOut.clear();
    replies.clear();
    engine.receiveBatch(batch, new Array(batch.length).fill(from), tunOut, replies, to);
    engine.processHandshakes(replies, to);
    return replies;
  };
  const packets = (count: number) => {
    const batch = new PacketBatch({ capacity: count });
    for (let i = 0; i < count; i++) {
      const packet = new Uint8Array(60 + i);
      packet[0] = 0x45;
      packet[3] = 60 + i;
      packet.set([10, 9, 0, 1, 10, 9, 0, 2], 12);
      batch.push(packet);
    }
    return batch;
  };

  // 1. A real handshake: initiation → response → first data (the initiator's staged packet).
  out.clear();
  initiator.sealBatch(packets(1), [], out, to);
  const initiations = copyOf(out);
  const responseBatch = new PacketBatch({ capacity: 4 });
  for (const m of deliver(responder, out, initiatorAt)) responseBatch.push(m);
  const responses = copyOf(responseBatch);
  const firstData = deliver(initiator, responseBatch, responderAt);
  const transports = copyOf(firstData);
  deliver(responder, firstData, initiatorAt);
  // 2. More transport data on the confirmed session.
  for (let i = 0; i < seedMessages; i++) {
    out.clear();
    const batch = packets(4);
    initiator.sealBatch(batch, [], out, to);
    transports.push(...copyOf(out));
  }
  // 3. A second initiator whose handshake stays in flight: its initiation is answered with a cookie
  //    under load, then (without load) with a response kept from it, so mutated responses and
  //    cookie replies reach a live index.
  const pendingKey = generatePrivateKey();
  const pending = new Engine({ privateKey: pendingKey, mtu: 1420, underLoad });
  const pendingAt: Endpoint = { address: '10.0.0.3', port: 51820 };
  responder.addPeer({ publicKey: publicKeyFrom(pendingKey) }, ['10.9.0.3/32']);
  pending.addPeer({ publicKey: publicKeyFrom(responderKey), endpoint: responderAt }, ['10.9.0.2/32']);
  out.clear();
  pending.sealBatch(packets(1), [], out, to);
  const pendingInitiation = new PacketBatch({ capacity: 1 });
  pendingInitiation.push(out.packet(0));
  initiations.push(...copyOf(pendingInitiation));
  load = true;
  const cookieReplies = copyOf(deliver(responder, pendingInitiation, pendingAt));
  load = false;
  responses.push(...copyOf(deliver(responder, pendingInitiation, pendingAt)));

  // One list per message type, picked evenly (transport seeds outnumber the others).
  type Seed = { message: Uint8Array; target: Engine };
  const seeds: Seed[][] = [
    initiations.map((message) => ({ message, target: responder })),
    responses.map((message) => ({ message, target: message === responses[0] ? initiator : pending })),
    cookieReplies.map((message) => ({ message, target: pending })),
    transports.map((message) => ({ message, target: responder })),
  ];
  for (const [i, list] of seeds.entries()) {
    if (list.length === 0 || messageType((list[0] as Seed).message) !== i + 1) {
      throw new Error(`fuzz setup: no genuine message of type ${i + 1} to mutate`);
    }
  }

  const engines = [responder, initiator, pending];
  const kinds: Record<FuzzedKind, number> = { initiation: 0, response: 0, 'cookie-reply': 0, transport: 0, other: 0 };
  let loaded = 0;
  const datagrams = new PacketBatch({ capacity: 1, byteCapacity: 4096 });
  for (let i = 0; i < inputs; i++) {
    let input: Uint8Array;
    let target = engines[i % engines.length] as Engine;
    const pick = i % 5;
    if (pick === 0) {
      input = randomBytes(1 + Math.floor(Math.random() * 200));
      if (i % 10 === 0 && input.length >= 4) input.set([1 + (i % 4), 0, 0, 0]); // a plausible header
    } else {
      const list = seeds[i % seeds.length] as Seed[];
      const seed = list[Math.floor(Math.random() * list.length)] as Seed;
      target = seed.target;
      input = seed.message.slice();
      // pick 1: replayed as is; 2: bit flips; 3: flips and truncated; 4: flips anywhere incl. MACs.
      const flips = pick === 1 ? 0 : 1 + Math.floor(Math.random() * 4);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(Math.random() * input.length);
        input[at] = (input[at] as number) ^ (1 << Math.floor(Math.random() * 8));
      }
      if (pick === 3) input = input.subarray(0, 1 + Math.floor(Math.random() * input.length));
    }
    load = i % 3 !== 0;
    if (load) loaded++;
    kinds[KINDS[messageType(input) ?? 0] as FuzzedKind]++;
    datagrams.clear();
    if (!datagrams.push(input)) continue;
    deliver(target, datagrams, SOURCES[i % SOURCES.length] as Endpoint);
  }
  load = false;
  const reasons: Record<string, number> = {};
  for (const engine of engines) {
    for (const [reason, n] of Object.entries(engine.drops)) if (n > 0) reasons[reason] = (reasons[reason] ?? 0) + n;
  }
  const dropped = Object.values(reasons).reduce((a, b) => a + b, 0);
  return { inputs, dropped, reasons, kinds, underLoad: loaded };
}
