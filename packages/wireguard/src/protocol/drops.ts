// Why a datagram or packet was dropped. Every drop is counted under one of these; nothing from
// the network is ever thrown or answered unless it authenticated.

export const DROP_REASONS = [
  'malformed', // wrong type, reserved bytes or length
  'no-source', // datagram handed over without its sender endpoint (a Bind bug; counted, not thrown)
  'bad-source', // sender address that does not parse (needed for the cookie under load)
  'bad-mac1', // MAC1 does not verify: not meant for us
  'handshake-queue-full', // valid-MAC1 initiation or response that found the handshake queue full
  'needs-cookie', // under load without a valid MAC2 (a cookie reply was sent)
  'ratelimited', // under load, valid cookie, but its source address sent more than 20/s (burst 5)
  'ratelimit-table-full', // under load, valid cookie, from a new source while the rate limiter tracks its maximum
  'handshake-failed', // message 1/2 did not decrypt/authenticate
  'unknown-peer', // an authenticated initiation from a public key we do not know
  'stale-timestamp', // initiation not newer than the last accepted one (replay)
  'unknown-index', // receiver index matches no session or handshake
  'decrypt-failed', // transport payload did not authenticate
  'replayed', // transport counter already seen, or too old
  'expired-keypair', // transport for a keypair past REJECT_AFTER_TIME
  'bad-inner-packet', // decrypted payload is not an IP packet
  'inner-packet-too-big', // decrypted IP packet longer than the Tun's MTU (the Tun would refuse it)
  'tun-batch-full', // decrypted packet with no room left in this receive batch's Tun output
  'counter-limit', // transport counter at or past REJECT_AFTER_MESSAGES
  'disallowed-source', // inner source address not in the sending peer's allowed IPs
  'peer-to-peer', // inner destination is another peer's, and peer-to-peer forwarding is off
  'standing-queue', // transport datagram dropped at the head of a standing receive queue (CoDel), so TCP slows down early
  'no-route', // outbound packet whose destination matches no peer
  'no-endpoint', // outbound packet for a peer with no known endpoint
  'staged-overflow', // outbound packet dropped from a full per-peer staging queue
  'handshake-timeout', // staged packets dropped when REKEY_ATTEMPT_TIME ran out
  'bad-cookie-reply', // cookie reply that did not decrypt
] as const;

export type DropReason = (typeof DROP_REASONS)[number];
export type DropCounters = Record<DropReason, number>;

export function emptyDropCounters(): DropCounters {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounters;
}
