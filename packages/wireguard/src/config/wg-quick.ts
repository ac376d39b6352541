// The wg-quick INI format: [Interface] and [Peer] sections, as wg-quick(8) reads them. Parsing is
// strict: an unknown key, a bad value or a missing required key is a TunConfigError (code
// ERR_WG_CONFIG) naming the line and the key — never echoing a key's value, which may be secret.

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseCidr, TunConfigError } from '@tunkit/tun-core';
import { formatKey, parseKey } from '../protocol/keys.js';

export interface WgQuickEndpoint {
  /** An IP literal or a DNS name (resolved by resolveEndpoints). */
  host: string;
  port: number;
}

export interface WgQuickPeer {
  publicKey: Uint8Array;
  presharedKey?: Uint8Array;
  allowedIps: string[];
  endpoint?: WgQuickEndpoint;
  persistentKeepalive?: number;
}

export interface WgQuickInterface {
  privateKey: Uint8Array;
  listenPort?: number;
  addresses: string[];
  mtu?: number;
  dns: string[];
  /**
   * 0 means off. Kept, not applied: pass it to Device (`fwmark`), which reports it through UAPI
   * get (`wg show`) and logs once that it is not applied, since no tunkit Bind sets SO_MARK (a
   * node:dgram socket cannot). Refusing it would break configs written for wg-quick; applying it
   * silently would be a lie. Route by the listen port instead.
   */
  fwmark?: number;
  /** "off", "auto" or a table number. */
  table?: string;
  preUp: string[];
  postUp: string[];
  preDown: string[];
  postDown: string[];
  saveConfig?: boolean;
}

export interface WgQuickConfig {
  interface: WgQuickInterface;
  peers: WgQuickPeer[];
}

function fail(line: number, key: string, why: string): never {
  throw new TunConfigError('ERR_WG_CONFIG', `line ${line}: ${key}: ${why}`);
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

function integer(line: number, key: string, value: string, min: number, max: number): number {
  const n = /^0x[0-9a-f]+$/i.test(value)
    ? Number.parseInt(value, 16)
    : /^\d+$/.test(value)
      ? Number(value)
      : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) fail(line, key, `'${value}' is not an integer in ${min}..${max}`);
  return n;
}

/** Parses "host:port", "1.2.3.4:51820" or "[fd00::1]:51820". */
export function parseWgEndpoint(value: string, line = 0, key = 'Endpoint'): WgQuickEndpoint {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(value);
  const plain = /^([^:[\]]+):(\d+)$/.exec(value);
  const match = bracketed ?? plain;
  if (!match) fail(line, key, `'${value}' is not host:port (IPv6 in brackets: [fd00::1]:51820)`);
  const host = match[1] as string;
  if (bracketed && isIP(host) !== 6) fail(line, key, `'${host}' in brackets is not an IPv6 address`);
  if (!bracketed && !/^[A-Za-z0-9.-]+$/.test(host)) fail(line, key, `'${host}' is not an IPv4 address or a DNS name`);
  return { host, port: integer(line, key, match[2] as string, 1, 65535) };
}

/** Parses a wg-quick file's text. */
export function parseWgQuick(text: string): WgQuickConfig {
  let section: 'interface' | 'peer' | undefined;
  let privateKey: Uint8Array | undefined;
  const iface: Omit<WgQuickInterface, 'privateKey'> = {
    addresses: [],
    dns: [],
    preUp: [],
    postUp: [],
    preDown: [],
    postDown: [],
  };
  const peers: WgQuickPeer[] = [];
  let peer: (Partial<WgQuickPeer> & { allowedIps: string[]; line: number }) | undefined;
  let sawInterface = false;

  const finishPeer = () => {
    if (peer === undefined) return;
    if (peer.publicKey === undefined) fail(peer.line, 'Peer', 'PublicKey is required');
    const { line: _line, ...rest } = peer;
    peers.push(rest as WgQuickPeer);
    peer = undefined;
  };

  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/#.*$/, '').trim();
    if (content === '') return;
    const header = /^\[(\w+)\]$/.exec(content);
    if (header) {
      const name = (header[1] as string).toLowerCase();
      finishPeer();
      if (name === 'interface') {
        if (sawInterface) fail(line, '[Interface]', 'only one [Interface] section is allowed');
        sawInterface = true;
        section = 'interface';
      } else if (name === 'peer') {
        section = 'peer';
        peer = { allowedIps: [], line };
      } else {
        fail(line, content, 'unknown section (expected [Interface] or [Peer])');
      }
      return;
    }
    const eq = content.indexOf('=');
    if (eq < 0) fail(line, content.slice(0, 20), 'expected Key = Value');
    const key = content.slice(0, eq).trim();
    const value = content.slice(eq + 1).trim();
    const k = key.toLowerCase();
    if (section === undefined) fail(line, key, 'appears before any [Interface] or [Peer] section');
    if (section === 'interface') {
      switch (k) {
        case 'privatekey':
          privateKey = parseKey(value, `line ${line}: PrivateKey`);
          break;
        case 'listenport':
          iface.listenPort = integer(line, key, value, 0, 65535);
          break;
        case 'address':
          for (const a of list(value)) {
            try {
              parseCidr(a);
            } catch {
              fail(line, key, `'${a}' is not an address with a prefix (10.0.0.2/24, fd00::2/64)`);
            }
            iface.addresses.push(a);
          }
          break;
        case 'mtu':
          iface.mtu = integer(line, key, value, 68, 65535);
          break;
        case 'dns':
          iface.dns.push(...list(value));
          break;
        case 'fwmark':
          iface.fwmark = value.toLowerCase() === 'off' ? 0 : integer(line, key, value, 0, 2 ** 32 - 1);
          break;
        case 'table':
          if (!/^(off|auto|\d+)$/i.test(value)) fail(line, key, `'${value}' is not off, auto or a table number`);
          iface.table = value.toLowerCase();
          break;
        case 'preup':
          iface.preUp.push(value);
          break;
        case 'postup':
          iface.postUp.push(value);
          break;
        case 'predown':
          iface.preDown.push(value);
          break;
        case 'postdown':
          iface.postDown.push(value);
          break;
        case 'saveconfig':
          iface.saveConfig = value.toLowerCase() === 'true';
          break;
        default:
          fail(line, key, 'unknown key in [Interface]');
      }
      return;
    }
    const p = peer as NonNullable<typeof peer>;
    switch (k) {
      case 'publickey':
        p.publicKey = parseKey(value, `line ${line}: PublicKey`);
        break;
      case 'presharedkey':
        p.presharedKey = parseKey(value, `line ${line}: PresharedKey`);
        break;
      case 'allowedips':
        for (const a of list(value)) {
          try {
            parseCidr(a);
          } catch {
            fail(line, key, `'${a}' is not a CIDR (10.0.0.0/24, ::/0)`);
          }
          p.allowedIps.push(a);
        }
        break;
      case 'endpoint':
        p.endpoint = parseWgEndpoint(value, line, key);
        break;
      case 'persistentkeepalive':
        p.persistentKeepalive = value.toLowerCase() === 'off' ? 0 : integer(line, key, value, 0, 65535);
        break;
      default:
        fail(line, key, 'unknown key in [Peer]');
    }
  });
  finishPeer();
  if (!sawInterface) fail(0, '[Interface]', 'the file has no [Interface] section');
  if (privateKey === undefined) fail(0, 'PrivateKey', 'the [Interface] section needs a PrivateKey');
  return { interface: { ...iface, privateKey }, peers };
}

/** Refuses PreUp/PostUp/PreDown/PostDown and SaveConfig: tunkit runs no shell hooks. */
export function refuseUnsupported(config: WgQuickConfig): void {
  const i = config.interface;
  for (const [key, values] of [
    ['PreUp', i.preUp],
    ['PostUp', i.postUp],
    ['PreDown', i.preDown],
    ['PostDown', i.postDown],
  ] as const) {
    if (values.length > 0) {
      throw new TunConfigError(
        'ERR_WG_CONFIG',
        `${key} is not supported: tunkit does not run shell hooks; run the command around the daemon instead`,
      );
    }
  }
  if (i.saveConfig)
    throw new TunConfigError(
      'ERR_WG_CONFIG',
      'SaveConfig = true is not supported: tunkit never rewrites its config file',
    );
}

/** Resolves DNS-name endpoints to IP literals (at start, as wg-quick does). */
export async function resolveEndpoints(
  config: WgQuickConfig,
  lookup: (host: string) => Promise<string> = async (host) => (await dnsLookup(host)).address,
): Promise<WgQuickConfig> {
  const peers = await Promise.all(
    config.peers.map(async (peer) => {
      if (!peer.endpoint || isIP(peer.endpoint.host) !== 0) return peer;
      try {
        return { ...peer, endpoint: { host: await lookup(peer.endpoint.host), port: peer.endpoint.port } };
      } catch (error) {
        throw new TunConfigError(
          'ERR_WG_CONFIG',
          `cannot resolve Endpoint host '${peer.endpoint.host}': ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }),
  );
  return { ...config, peers };
}

/** Writes a config back in wg-quick's format (parseWgQuick(serializeWgQuick(c)) equals c). */
export function serializeWgQuick(config: WgQuickConfig): string {
  const i = config.interface;
  const lines = ['[Interface]', `PrivateKey = ${formatKey(i.privateKey)}`];
  if (i.listenPort !== undefined) lines.push(`ListenPort = ${i.listenPort}`);
  if (i.addresses.length) lines.push(`Address = ${i.addresses.join(', ')}`);
  if (i.mtu !== undefined) lines.push(`MTU = ${i.mtu}`);
  if (i.dns.length) lines.push(`DNS = ${i.dns.join(', ')}`);
  if (i.fwmark !== undefined) lines.push(`FwMark = ${i.fwmark === 0 ? 'off' : i.fwmark}`);
  if (i.table !== undefined) lines.push(`Table = ${i.table}`);
  for (const c of i.preUp) lines.push(`PreUp = ${c}`);
  for (const c of i.postUp) lines.push(`PostUp = ${c}`);
  for (const c of i.preDown) lines.push(`PreDown = ${c}`);
  for (const c of i.postDown) lines.push(`PostDown = ${c}`);
  if (i.saveConfig !== undefined) lines.push(`SaveConfig = ${i.saveConfig}`);
  for (const p of config.peers) {
    lines.push('', '[Peer]', `PublicKey = ${formatKey(p.publicKey)}`);
    if (p.presharedKey) lines.push(`PresharedKey = ${formatKey(p.presharedKey)}`);
    if (p.allowedIps.length) lines.push(`AllowedIPs = ${p.allowedIps.join(', ')}`);
    if (p.endpoint)
      lines.push(
        `Endpoint = ${p.endpoint.host.includes(':') ? `[${p.endpoint.host}]` : p.endpoint.host}:${p.endpoint.port}`,
      );
    if (p.persistentKeepalive !== undefined)
      lines.push(`PersistentKeepalive = ${p.persistentKeepalive === 0 ? 'off' : p.persistentKeepalive}`);
  }
  return `${lines.join('\n')}\n`;
}
