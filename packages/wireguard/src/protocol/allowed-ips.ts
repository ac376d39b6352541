// Cryptokey routing: a binary trie per address family mapping prefixes to peers. Outbound, a
// packet's destination picks its peer; inbound, a decrypted packet's source must map back to the
// peer that sent it. Lookups walk at most 32/128 nodes and allocate nothing: they read the
// address in place (lookupAt takes a packet by buffer and offset, as a PacketBatch holds it).

import { type Cidr, cidrNetwork, formatCidr, ipAddressOffset, ipVersionAt, parseCidr } from '@tunkit/tun-core';

interface TrieNode<T> {
  children: [TrieNode<T> | undefined, TrieNode<T> | undefined];
  value: T | undefined;
}

function node<T>(): TrieNode<T> {
  return { children: [undefined, undefined], value: undefined };
}

/** Bit `i` of the address starting at `at` in `buffer`. */
function bitAt(buffer: Uint8Array, at: number, i: number): 0 | 1 {
  return (((buffer[at + (i >> 3)] as number) >> (7 - (i & 7))) & 1) as 0 | 1;
}

export class AllowedIps<T> {
  private readonly v4 = node<T>();
  private readonly v6 = node<T>();

  /** Maps `prefix` to `value`; a prefix already mapped moves to the new value (as in WireGuard). */
  insert(prefix: string | Cidr, value: T): void {
    const cidr = cidrNetwork(typeof prefix === 'string' ? parseCidr(prefix) : prefix);
    let n = cidr.family === 4 ? this.v4 : this.v6;
    for (let i = 0; i < cidr.prefix; i++) {
      const b = bitAt(cidr.address, 0, i);
      n.children[b] ??= node<T>();
      n = n.children[b] as TrieNode<T>;
    }
    n.value = value;
  }

  /** Removes every prefix mapped to `value`. */
  removeValue(value: T): void {
    const walk = (n: TrieNode<T> | undefined) => {
      if (n === undefined) return;
      if (n.value === value) n.value = undefined;
      walk(n.children[0]);
      walk(n.children[1]);
    };
    walk(this.v4);
    walk(this.v6);
  }

  /** Longest-prefix match for a 4- or 16-byte address. */
  lookup(address: Uint8Array): T | undefined {
    return this.lookupAddressAt(address, 0, address.length === 4 ? 4 : 6);
  }

  /** The peer for a packet's destination (outbound) or source (inbound check); undefined if malformed. */
  lookupPacket(packet: Uint8Array, which: 'source' | 'destination'): T | undefined {
    return this.lookupAt(packet, 0, packet.length, which);
  }

  /**
   * lookupPacket for the `length`-byte packet at `offset` in `buffer`, read in place (no view is
   * made: this runs once or twice per packet).
   */
  lookupAt(buffer: Uint8Array, offset: number, length: number, which: 'source' | 'destination'): T | undefined {
    const version = ipVersionAt(buffer, offset, length);
    if (version === 0) return undefined;
    return this.lookupAddressAt(buffer, ipAddressOffset(offset, version, which), version);
  }

  private lookupAddressAt(buffer: Uint8Array, at: number, family: 4 | 6): T | undefined {
    let n: TrieNode<T> | undefined = family === 4 ? this.v4 : this.v6;
    let best = n.value;
    const bits = family === 4 ? 32 : 128;
    for (let i = 0; i < bits && n !== undefined; i++) {
      n = n.children[bitAt(buffer, at, i)];
      if (n?.value !== undefined) best = n.value;
    }
    return best;
  }

  /** The prefixes mapped to `value`, as text. */
  prefixesOf(value: T): string[] {
    const out: string[] = [];
    const walk = (n: TrieNode<T> | undefined, family: 4 | 6, bits: number[]) => {
      if (n === undefined) return;
      if (n.value === value) {
        const address = new Uint8Array(family === 4 ? 4 : 16);
        bits.forEach((b, i) => {
          if (b) address[i >> 3] = (address[i >> 3] as number) | (0x80 >> (i & 7));
        });
        out.push(formatCidr({ family, address, prefix: bits.length }));
      }
      walk(n.children[0], family, [...bits, 0]);
      walk(n.children[1], family, [...bits, 1]);
    };
    walk(this.v4, 4, []);
    walk(this.v6, 6, []);
    return out;
  }
}
