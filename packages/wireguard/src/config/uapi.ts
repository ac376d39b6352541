// The cross-platform userspace API text protocol (get=1 / set=1), as the stock `wg` tool speaks it:
// keys in lowercase hex, one key=value per line. Pure text in, typed operations out, and a
// snapshot formatted back; the socket is ../uapi/uapi-server.ts. An error names the key, never
// text that could be a key (values and unknown names go through secret-safe.ts).

import { parseCidr } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import { formatEndpoint } from '../bind/bind.js';
import { keyFromHex, keyToHex } from '../protocol/keys.js';
import { showKeyName, showValue } from './secret-safe.js';

const DEVICE_KEYS = ['private_key', 'listen_port', 'fwmark', 'replace_peers', 'public_key'] as const;
const PEER_KEYS = [
  'remove',
  'update_only',
  'preshared_key',
  'endpoint',
  'persistent_keepalive_interval',
  'replace_allowed_ips',
  'allowed_ip',
  'protocol_version',
] as const;

export interface PeerSnapshot {
  publicKey: Uint8Array;
  presharedKey?: Uint8Array | undefined;
  endpoint?: Endpoint | undefined;
  lastHandshakeWallMs: number;
  rxBytes: number;
  txBytes: number;
  persistentKeepalive: number;
  allowedIps: string[];
}

export interface DeviceSnapshot {
  privateKey?: Uint8Array | undefined;
  listenPort: number;
  fwmark: number;
  peers: PeerSnapshot[];
}

/** The get=1 answer (without the final errno line). */
export function formatUapiGet(device: DeviceSnapshot): string {
  return formatUapiInterface(device) + device.peers.map(formatUapiPeer).join('');
}

/** The interface's lines of the get=1 answer, each ending in a newline. */
export function formatUapiInterface(device: Omit<DeviceSnapshot, 'peers'>): string {
  const lines: string[] = [];
  if (device.privateKey) lines.push(`private_key=${keyToHex(device.privateKey)}`);
  lines.push(`listen_port=${device.listenPort}`);
  if (device.fwmark !== 0) lines.push(`fwmark=${device.fwmark}`);
  return `${lines.join('\n')}\n`;
}

/** One peer's lines of the get=1 answer, each ending in a newline. */
export function formatUapiPeer(peer: PeerSnapshot): string {
  const seconds = Math.floor(peer.lastHandshakeWallMs / 1000);
  let text =
    `public_key=${keyToHex(peer.publicKey)}\n` +
    `preshared_key=${peer.presharedKey ? keyToHex(peer.presharedKey) : ZERO_KEY_HEX}\n` +
    'protocol_version=1\n';
  if (peer.endpoint) text += `endpoint=${formatEndpoint(peer.endpoint)}\n`;
  text +=
    `last_handshake_time_sec=${seconds}\n` +
    `last_handshake_time_nsec=${(peer.lastHandshakeWallMs - seconds * 1000) * 1_000_000}\n` +
    `tx_bytes=${peer.txBytes}\n` +
    `rx_bytes=${peer.rxBytes}\n` +
    `persistent_keepalive_interval=${peer.persistentKeepalive}\n`;
  for (const prefix of peer.allowedIps) text += `allowed_ip=${prefix}\n`;
  return text;
}

const ZERO_KEY_HEX = '0'.repeat(64);

export type UapiPeerOperation = {
  publicKey: Uint8Array;
  remove: boolean;
  updateOnly: boolean;
  presharedKey?: Uint8Array;
  endpoint?: Endpoint;
  persistentKeepalive?: number;
  replaceAllowedIps: boolean;
  allowedIps: string[];
};

export interface UapiSet {
  privateKey?: Uint8Array;
  listenPort?: number;
  fwmark?: number;
  replacePeers: boolean;
  peers: UapiPeerOperation[];
}

/** Linux errno values the UAPI answers with, as wireguard-go's ipc package does. */
export const EPERM = 1;
export const EIO = 5;
export const EINVAL = 22;
export const EADDRINUSE = 98;

/**
 * A set=1 request that cannot be applied. `errno` is positive (EINVAL = 22, EADDRINUSE = 98); the
 * reply line carries it negated ("errno=-22"), as wireguard-go writes it and `wg` expects.
 */
export class UapiError extends Error {
  readonly errno: number;
  constructor(message: string, errno = 22) {
    super(message);
    this.errno = errno;
  }
}

function integer(key: string, value: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) > max)
    throw new UapiError(`${key}: ${showValue(value)} is not an integer in 0..${max}`);
  return Number(value);
}

/** Parses "1.2.3.4:51820" or "[fd00::1]:51820". */
export function parseEndpoint(text: string): Endpoint {
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([0-9.]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new UapiError(`endpoint: ${showValue(text)} is not ip:port or [ipv6]:port`);
  // Nothing can be sent to port 0 (the kernel answers EINVAL): refused here, so a peer never gets
  // an endpoint that every handshake and keepalive would fail on.
  if (port === 0) throw new UapiError(`endpoint: ${showValue(text)} has port 0, which nothing can be sent to`);
  try {
    parseCidr(match[1] as string); // validates the address
  } catch {
    throw new UapiError(`endpoint: ${showValue(text)} does not hold an IP address`);
  }
  return { address: match[1] as string, port };
}

/**
 * Invalid input found by another parser (a key, a CIDR) becomes EINVAL, not a handler failure
 * (EIO). Its message is not passed on (a CIDR parser quotes what it got): `why` says what is wrong.
 */
function invalid<T>(what: string, why: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UapiError) throw error;
    throw new UapiError(`${what}: ${why}`, EINVAL);
  }
}

const NOT_HEX_KEY = 'not 64 lowercase hex digits';

/** `true` is the only value these keys take (wireguard-go refuses any other with EINVAL). */
function onlyTrue(key: string, value: string): true {
  if (value !== 'true') throw new UapiError(`${key}: ${showValue(value)}: ${key} takes only true`, EINVAL);
  return true;
}

/** Parses the body of a set=1 request (the lines after "set=1"). Throws UapiError. */
export function parseUapiSet(body: string): UapiSet {
  const result: UapiSet = { replacePeers: false, peers: [] };
  let peer: UapiPeerOperation | undefined;
  for (const line of body.split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new UapiError('a line is not key=value (its content is not shown: it may hold a key)');
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'public_key') {
      peer = {
        publicKey: invalid(key, NOT_HEX_KEY, () => keyFromHex(value, 'public_key')),
        remove: false,
        updateOnly: false,
        replaceAllowedIps: false,
        allowedIps: [],
      };
      result.peers.push(peer);
      continue;
    }
    if (peer === undefined) {
      switch (key) {
        case 'private_key':
          result.privateKey = invalid(key, NOT_HEX_KEY, () => keyFromHex(value, 'private_key'));
          break;
        case 'listen_port':
          result.listenPort = integer(key, value, 65535);
          break;
        case 'fwmark':
          result.fwmark = integer(key, value, 2 ** 32 - 1);
          break;
        case 'replace_peers':
          result.replacePeers = onlyTrue(key, value);
          break;
        default:
          throw unknownKey('device', key, DEVICE_KEYS);
      }
      continue;
    }
    switch (key) {
      case 'remove':
        peer.remove = onlyTrue(key, value);
        break;
      case 'update_only':
        peer.updateOnly = onlyTrue(key, value);
        break;
      case 'preshared_key':
        peer.presharedKey = invalid(key, NOT_HEX_KEY, () => keyFromHex(value, 'preshared_key'));
        break;
      case 'endpoint':
        peer.endpoint = invalid(key, 'not ip:port', () => parseEndpoint(value));
        break;
      case 'persistent_keepalive_interval':
        peer.persistentKeepalive = integer(key, value, 65535);
        break;
      case 'replace_allowed_ips':
        peer.replaceAllowedIps = onlyTrue(key, value);
        break;
      case 'allowed_ip':
        invalid(key, `${showValue(value)} is not a CIDR (10.0.0.0/24, ::/0)`, () => parseCidr(value));
        peer.allowedIps.push(value);
        break;
      case 'protocol_version':
        if (value !== '1') throw new UapiError(`protocol_version: ${showValue(value)} is not supported`);
        break;
      default:
        throw unknownKey('peer', key, [...DEVICE_KEYS, ...PEER_KEYS]);
    }
  }
  return result;
}

function unknownKey(where: 'device' | 'peer', key: string, known: readonly string[]): UapiError {
  const { name, meant } = showKeyName(key, known);
  if (name !== undefined) return new UapiError(`unknown ${where} key '${name}' (did you mean ${meant}?)`);
  return new UapiError(`unknown ${where} key (its name is not shown: it may be part of a key)`);
}
