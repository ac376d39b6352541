// Decoder fuzzing: random and mutated datagrams into a responder Engine that knows one peer.
// Every input must be dropped with a counted reason (or, for a valid message, handled); nothing
// may throw. Used by the smoke test (10^4 inputs) and by bench/fuzz (10^6 and more).

import { randomBytes } from 'node:crypto';
import { PacketBatch } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import { Engine } from './engine.js';
import { generatePrivateKey, publicKeyFrom } from './keys.js';

export interface FuzzResult {
  inputs: number;
  dropped: number;
  reasons: Record<string, number>;
}

/** Builds real messages (an initiation and transport data) to mutate, then fuzzes. */
export function fuzzEngine(inputs: number, seedMessages = 8): FuzzResult {
  const responderKey = generatePrivateKey();
  const initiatorKey = generatePrivateKey();
  const responder = new Engine({ privateKey: responderKey, mtu: 1420 });
  const initiator = new Engine({ privateKey: initiatorKey, mtu: 1420 });
  const endpoint: Endpoint = { address: '10.0.0.1', port: 51820 };
  responder.addPeer({ publicKey: publicKeyFrom(initiatorKey) }, ['10.9.0.1/32']);
  initiator.addPeer({ publicKey: publicKeyFrom(responderKey), endpoint }, ['10.9.0.2/32']);

  // Genuine messages: initiations from the initiator, and (after a handshake) transport data.
  const samples: Uint8Array[] = [];
  const out = new PacketBatch({ capacity: 256 });
  const to: Endpoint[] = [];
  const packets = new PacketBatch({ capacity: 4 });
  const packet = new Uint8Array(60);
  packet[0] = 0x45;
  packet[3] = 60;
  packet.set([10, 9, 0, 1, 10, 9, 0, 2], 12);
  packets.push(packet);
  for (let i = 0; i < seedMessages; i++) {
    out.clear();
    initiator.sealBatch(packets, [], out, to);
    for (const m of out) samples.push(m.slice());
  }

  const datagrams = new PacketBatch({ capacity: 1, byteCapacity: 4096 });
  const tunOut = new PacketBatch({ capacity: 4 });
  const replies = new PacketBatch({ capacity: 4 });
  const from = [endpoint];
  for (let i = 0; i < inputs; i++) {
    let input: Uint8Array;
    const pick = i % 4;
    if (pick === 0 || samples.length === 0) {
      input = randomBytes(Math.floor(Math.random() * 200));
    } else {
      input = (samples[i % samples.length] as Uint8Array).slice();
      const flips = 1 + Math.floor(Math.random() * 4);
      for (let f = 0; f < flips && input.length > 0; f++) {
        const at = Math.floor(Math.random() * input.length);
        input[at] = (input[at] as number) ^ (1 << Math.floor(Math.random() * 8));
      }
      if (pick === 3) input = input.subarray(0, Math.floor(Math.random() * input.length));
    }
    datagrams.clear();
    if (input.length === 0 || !datagrams.push(input)) continue;
    tunOut.clear();
    replies.clear();
    responder.receiveBatch(datagrams, from, tunOut, replies, to);
  }
  const reasons = Object.fromEntries(Object.entries(responder.drops).filter(([, n]) => n > 0));
  const dropped = Object.values(reasons).reduce((a, b) => a + b, 0);
  return { inputs, dropped, reasons };
}
