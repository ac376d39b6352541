// The sliding replay window for transport counters (RFC 6479 style): a ring of 32-bit words
// covering the last REPLAY_WINDOW counters. A counter is accepted once, if it is within the window
// and not seen before; the window only moves forward. No allocation per check.
// Counters are JS numbers: exact up to 2^53, which a session never reaches (it rekeys long before,
// and at 10^7 packets/s 2^53 takes 28 years), so counters at or above 2^53 are refused.

export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;
const BLOCK_BITS = 32;
/** 256 words: an 8,192-bit ring, a power of two so that the slot of a block is one mask. */
const BLOCKS = 256;
/** Words in the window's state (state()): what a native data plane's copy holds too. */
export const REPLAY_WORDS = BLOCKS;
/**
 * Counters below the highest seen by more than this are refused as too old: 8,128, as
 * wireguard-go and the Linux kernel (an 8,192-bit ring less one 64-bit word). The ring holds
 * REPLAY_WINDOW / 32 + 1 = 255 words of live counters, one fewer than it has: a word is never
 * reused while a counter it holds can still be accepted.
 */
export const REPLAY_WINDOW = 8192 - 64;

export class ReplayWindow {
  private readonly bitmap = new Uint32Array(BLOCKS);
  private last = -1;

  /**
   * Accepts `counter` (recording it) or refuses it as replayed, too old or too large. Call only
   * after the packet authenticated, so a forged counter cannot move the window.
   */
  accept(counter: number): boolean {
    if (!(counter >= 0 && counter < MAX_COUNTER)) return false;
    const blockIndex = Math.floor(counter / BLOCK_BITS);
    if (counter > this.last) {
      const lastBlock = this.last < 0 ? -1 : Math.floor(this.last / BLOCK_BITS);
      const clear = Math.min(blockIndex - lastBlock, BLOCKS);
      for (let i = 1; i <= clear; i++) this.bitmap[(lastBlock + i) % BLOCKS] = 0;
      this.last = counter;
    } else if (this.last - counter > REPLAY_WINDOW) {
      return false;
    }
    const slot = blockIndex % BLOCKS;
    const bit = 1 << (counter % BLOCK_BITS);
    const word = this.bitmap[slot] as number;
    if ((word & bit) !== 0) return false;
    this.bitmap[slot] = word | bit;
    return true;
  }

  /** The window's state (a copy of its words, and the highest counter seen, -1 for none): what a native twin starts from. */
  state(): { bitmap: Uint32Array; last: number } {
    return { bitmap: this.bitmap.slice(), last: this.last };
  }
}
