// WireGuard's constants, from the whitepaper (section 5.4 and 6.1), and the timer settings made of
// them: injectable, so tests can shorten them (a rekey in seconds instead of minutes) and drive
// them with a fake clock.

const text = new TextEncoder();

export const CONSTRUCTION = text.encode('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s');
export const IDENTIFIER = text.encode('WireGuard v1 zx2c4 Jason@zx2c4.com');
export const LABEL_MAC1 = text.encode('mac1----');
export const LABEL_COOKIE = text.encode('cookie--');

export const MESSAGE_INITIATION = 1;
export const MESSAGE_RESPONSE = 2;
export const MESSAGE_COOKIE_REPLY = 3;
export const MESSAGE_TRANSPORT = 4;

export const INITIATION_LENGTH = 148;
export const RESPONSE_LENGTH = 92;
export const COOKIE_REPLY_LENGTH = 64;
/** Type, reserved, receiver index, counter. */
export const TRANSPORT_HEADER_LENGTH = 16;
/** Header plus the tag of an empty (keepalive) payload. */
export const TRANSPORT_MIN_LENGTH = 32;
/** A transport datagram's bytes beyond its packet: header and tag (padding stays within the MTU). */
export const TRANSPORT_OVERHEAD = TRANSPORT_MIN_LENGTH;
/** The largest UDP payload there is (IPv4: 65,535 less a 20-byte IP and an 8-byte UDP header). */
export const MAX_UDP_PAYLOAD = 65_507;
/** The largest tunnel MTU whose packets fit one UDP datagram once sealed: 65,475. */
export const MAX_TUNNEL_MTU = MAX_UDP_PAYLOAD - TRANSPORT_OVERHEAD;

/**
 * The UDP datagram size a tunnel of `mtu` sends and receives at most: its largest transport
 * message (handshake messages are at most 148 bytes). A Bind for that tunnel must carry it.
 */
export function datagramSizeFor(mtu: number): number {
  return mtu + TRANSPORT_OVERHEAD;
}

/** Seconds and counts of the protocol timers (whitepaper 6.1), in milliseconds where timed. */
/** 2^60 in the whitepaper; counters are JS numbers here (see replay.ts), so the bound is 2^53 - 2^13. */
export const REKEY_AFTER_MESSAGES = 2 ** 53 - 2 ** 14;
export const REJECT_AFTER_MESSAGES = 2 ** 53 - 2 ** 13;
export const REKEY_AFTER_TIME = 120_000;
export const REJECT_AFTER_TIME = 180_000;
export const REKEY_ATTEMPT_TIME = 90_000;
export const REKEY_TIMEOUT = 5_000;
export const KEEPALIVE_TIMEOUT = 10_000;
export const COOKIE_REFRESH_TIME = 120_000;
/** Random jitter added to each handshake retransmission (wireguard-go uses up to 333 ms). */
export const REKEY_TIMEOUT_JITTER_MAX = 334;

export interface TimerSettings {
  rekeyAfterTime: number;
  rejectAfterTime: number;
  rekeyAttemptTime: number;
  rekeyTimeout: number;
  keepaliveTimeout: number;
  rekeyAfterMessages: number;
  rejectAfterMessages: number;
  jitterMax: number;
  /**
   * A new handshake starts when data went out and nothing authenticated came back for this long
   * (whitepaper: KEEPALIVE_TIMEOUT + REKEY_TIMEOUT = 15 s). A client may shorten it to find a
   * restarted peer sooner; the cost is at most one extra initiation per this interval during
   * one-way traffic.
   */
  unansweredDataTimeout: number;
}

export const DEFAULT_TIMERS: Readonly<TimerSettings> = {
  rekeyAfterTime: REKEY_AFTER_TIME,
  rejectAfterTime: REJECT_AFTER_TIME,
  rekeyAttemptTime: REKEY_ATTEMPT_TIME,
  rekeyTimeout: REKEY_TIMEOUT,
  keepaliveTimeout: KEEPALIVE_TIMEOUT,
  rekeyAfterMessages: REKEY_AFTER_MESSAGES,
  rejectAfterMessages: REJECT_AFTER_MESSAGES,
  jitterMax: REKEY_TIMEOUT_JITTER_MAX,
  unansweredDataTimeout: KEEPALIVE_TIMEOUT + REKEY_TIMEOUT,
};
