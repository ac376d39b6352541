// Cryptokey routing: a path-compressed binary trie per address family mapping prefixes to peers.
// Outbound, a packet's destination picks its peer; inbound, a decrypted packet's source must map
// back to the peer that sent it. A lookup visits one node per branching point (about log2 of the
// prefixes, not 32/128 bits), compares 32 bits at a time and allocates nothing: it reads the
// address in place (lookupAt takes a packet by buffer and offset, as a PacketBatch holds it).
// Each value keeps the set of its own nodes, so listing or removing one peer's prefixes (wg show,
// /metrics, a peer removed) touches that peer's prefixes only, not the whole trie: with 5,000
// peers, listing every peer's prefixes walked the trie 5,000 times (seconds of a blocked loop).

import { type Cidr, cidrNetwork, formatCidr, ipAddressOffset, ipVersionAt, parseCidr } from '@tunkit/tun-core';

/**
 * A node: a prefix of `length` bits, held as up to four 32-bit words (w0 first; IPv4 uses w0
 * only; bits past `length` are zero). Valued nodes are prefixes that were inserted; valueless
 * ones only branch, and exist only with two children (removal merges them away).
 */
class TrieNode<T> {
  value: T | undefined = undefined;
  /** The prefix as text (`10.0.0.0/8`), for valued nodes. */
  text = '';
  child0: TrieNode<T> | undefined = undefined;
  child1: TrieNode<T> | undefined = undefined;
  parent: TrieNode<T> | undefined = undefined;

  constructor(
    readonly family: 4 | 6,
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
    readonly length: number,
  ) {}
}

/** The `word`th big-endian 32-bit word of the address at `at` in `buffer`. */
function wordAt(buffer: Uint8Array, at: number, word: number): number {
  const i = at + word * 4;
  return (
    ((buffer[i] as number) << 24) |
    ((buffer[i + 1] as number) << 16) |
    ((buffer[i + 2] as number) << 8) |
    (buffer[i + 3] as number)
  );
}

function nodeWord<T>(n: TrieNode<T>, word: number): number {
  return word === 0 ? n.w0 : word === 1 ? n.w1 : word === 2 ? n.w2 : n.w3;
}

/** Bit `bit` (0 = the most significant of word 0) of four words. */
function bitOf(w0: number, w1: number, w2: number, w3: number, bit: number): 0 | 1 {
  const word = bit >> 5 === 0 ? w0 : bit >> 5 === 1 ? w1 : bit >> 5 === 2 ? w2 : w3;
  return ((word >>> (31 - (bit & 31))) & 1) as 0 | 1;
}

/** The mask of the first `bits` (0..32) bits of a word. */
function maskOf(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? -1 : -1 << (32 - bits);
}

/** Leading bits (up to `limit`) that two word quadruples share. */
function commonBits(a: readonly number[], b: readonly number[], limit: number): number {
  for (let word = 0; word * 32 < limit; word++) {
    const diff = ((a[word] as number) ^ (b[word] as number)) >>> 0;
    if (diff !== 0) return Math.min(limit, word * 32 + Math.clz32(diff));
  }
  return limit;
}

const wordsOf = <T>(n: TrieNode<T>): number[] => [n.w0, n.w1, n.w2, n.w3];

export class AllowedIps<T> {
  private root4: TrieNode<T> | undefined;
  private root6: TrieNode<T> | undefined;
  /** Each value's nodes, in insertion order. */
  private readonly nodesOf = new Map<T, Set<TrieNode<T>>>();
  /** lookupAt's address words, reused (no allocation per packet). */
  private readonly scratch = [0, 0, 0, 0];
  /** Bumped by every change: whoever mirrors the table (a native data plane) knows when to copy it again. */
  version = 0;

  /** Maps `prefix` to `value`; a prefix already mapped moves to the new value (as in WireGuard). */
  insert(prefix: string | Cidr, value: T): void {
    const cidr = cidrNetwork(typeof prefix === 'string' ? parseCidr(prefix) : prefix);
    const words = [0, 0, 0, 0];
    for (let word = 0; word < cidr.address.length / 4; word++) words[word] = wordAt(cidr.address, 0, word);
    const node = this.place(cidr.family, words, cidr.prefix);
    if (node.value === value) return;
    this.version++;
    if (node.value !== undefined) this.nodesOf.get(node.value)?.delete(node);
    else node.text = formatCidr(cidr);
    node.value = value;
    let own = this.nodesOf.get(value);
    if (own === undefined) {
      own = new Set();
      this.nodesOf.set(value, own);
    }
    own.add(node);
  }

  /** Removes every prefix mapped to `value`. */
  removeValue(value: T): void {
    const own = this.nodesOf.get(value);
    if (own === undefined) return;
    this.nodesOf.delete(value);
    for (const node of own) this.unset(node);
    this.version++;
  }

  /** Calls `visit` for every mapped prefix, with its value. */
  forEach(visit: (prefix: Cidr, value: T) => void): void {
    for (const [value, nodes] of this.nodesOf) for (const node of nodes) visit(parseCidr(node.text), value);
  }

  /** The prefixes mapped to `value`, as text, in the order they were given to it. */
  prefixesOf(value: T): string[] {
    const own = this.nodesOf.get(value);
    return own === undefined ? [] : [...own].map((node) => node.text);
  }

  /** How many prefixes `value` has. */
  prefixCount(value: T): number {
    return this.nodesOf.get(value)?.size ?? 0;
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
    const a = this.scratch;
    a[0] = wordAt(buffer, at, 0);
    if (family === 6) {
      a[1] = wordAt(buffer, at, 1);
      a[2] = wordAt(buffer, at, 2);
      a[3] = wordAt(buffer, at, 3);
    } else {
      a[1] = a[2] = a[3] = 0;
    }
    const bits = family === 4 ? 32 : 128;
    let n = family === 4 ? this.root4 : this.root6;
    let best: T | undefined;
    while (n !== undefined) {
      // Does the address start with n's prefix? Whole words first, then the masked last one.
      const full = n.length >> 5;
      let match = true;
      for (let word = 0; word < full && match; word++) match = (a[word] as number) === nodeWord(n, word);
      const rest = n.length & 31;
      if (match && rest !== 0) match = (((a[full] as number) ^ nodeWord(n, full)) & maskOf(rest)) === 0;
      if (!match) break;
      if (n.value !== undefined) best = n.value;
      if (n.length >= bits) break;
      n = bitOf(a[0] as number, a[1] as number, a[2] as number, a[3] as number, n.length) === 0 ? n.child0 : n.child1;
    }
    return best;
  }

  /** The node for the prefix (`words`, `length`), created (and linked in) when missing. */
  private place(family: 4 | 6, words: number[], length: number): TrieNode<T> {
    const make = (w: readonly number[], bits: number) => {
      const m = [0, 1, 2, 3].map((word) => (w[word] as number) & maskOf(bits - word * 32));
      return new TrieNode<T>(family, m[0] as number, m[1] as number, m[2] as number, m[3] as number, bits);
    };
    let parent: TrieNode<T> | undefined;
    let n = family === 4 ? this.root4 : this.root6;
    for (;;) {
      if (n === undefined) {
        const leaf = make(words, length);
        this.link(family, parent, leaf);
        return leaf;
      }
      const common = commonBits(wordsOf(n), words, Math.min(n.length, length));
      if (common === n.length && common === length) return n;
      if (common === n.length) {
        // n's prefix contains the new one: go down.
        parent = n;
        n =
          bitOf(words[0] as number, words[1] as number, words[2] as number, words[3] as number, n.length) === 0
            ? n.child0
            : n.child1;
        continue;
      }
      // The new prefix splits the edge to n: either it contains n, or they part at `common`.
      const above = make(words, common);
      this.link(family, parent, above);
      this.link(family, above, n);
      if (common === length) return above;
      const leaf = make(words, length);
      this.link(family, above, leaf);
      return leaf;
    }
  }

  /** Makes `child` the child of `parent` on its side (or the family's root). */
  private link(family: 4 | 6, parent: TrieNode<T> | undefined, child: TrieNode<T>): void {
    child.parent = parent;
    if (parent === undefined) {
      if (family === 4) this.root4 = child;
      else this.root6 = child;
    } else if (bitOf(child.w0, child.w1, child.w2, child.w3, parent.length) === 0) parent.child0 = child;
    else parent.child1 = child;
  }

  /** Clears `node`'s value and merges away what no longer branches (no empty leaf stays). */
  private unset(node: TrieNode<T>): void {
    node.value = undefined;
    node.text = '';
    const family = node.family;
    let n: TrieNode<T> | undefined = node;
    while (n !== undefined && n.value === undefined) {
      if (n.child0 !== undefined && n.child1 !== undefined) return; // still branches
      const only: TrieNode<T> | undefined = n.child0 ?? n.child1;
      const parent: TrieNode<T> | undefined = n.parent;
      if (only !== undefined) {
        this.link(family, parent, only); // n's single child takes its place
        return;
      }
      // A leaf: unlink it; its parent may now be a valueless node with one child.
      if (parent === undefined) {
        if (family === 4) this.root4 = undefined;
        else this.root6 = undefined;
        return;
      }
      if (parent.child0 === n) parent.child0 = undefined;
      else parent.child1 = undefined;
      n = parent;
    }
  }
}
