// The wg-quick INI format: [Interface] and [Peer] sections, as wg-quick(8) reads them. Parsing is
// strict: an unknown key, a bad value or a missing required key is a TunConfigError (code
// ERR_WG_CONFIG) naming the line and the key. Nothing is quoted that could be a private or
// preshared key, whatever the file looks like: values and key names go through secret-safe.ts, a
// line without '=' is reported by its line number (and its key name when it starts with one), and
// a secret key that also sits in a PublicKey field is refused without showing either.

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseCidr, TunConfigError } from '@tunkit/tun-core';
import { formatKey, parseKey, publicKeyFrom } from '../protocol/keys.js';
import { leadingKeyName, showKeyName, showValue } from './secret-safe.js';

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
  /** 0 means off. The Device applies it to its UDP socket (SO_MARK); see DeviceOptions.fwmark. */
  fwmark?: number;
  /** "off", "auto" or a table number. */
  table?: string;
  /**
   * Shell commands of the PreUp/PostUp/PreDown/PostDown lines, in file order, as written (`%i`
   * not substituted). Kept, not run: running them is the daemon's decision (see its hooks.ts).
   */
  preUp: string[];
  postUp: string[];
  preDown: string[];
  postDown: string[];
  /** SaveConfig = true|false: kept for the daemon to report (tunkit never rewrites the file). */
  saveConfig?: boolean;
}

export interface WgQuickConfig {
  interface: WgQuickInterface;
  peers: WgQuickPeer[];
}

const INTERFACE_KEYS = [
  'PrivateKey',
  'ListenPort',
  'Address',
  'MTU',
  'DNS',
  'FwMark',
  'Table',
  'PreUp',
  'PostUp',
  'PreDown',
  'PostDown',
  'SaveConfig',
] as const;
const PEER_KEYS = ['PublicKey', 'PresharedKey', 'AllowedIPs', 'Endpoint', 'PersistentKeepalive'] as const;
const ALL_KEYS: readonly string[] = [...INTERFACE_KEYS, ...PEER_KEYS];

/** A DNS= entry that is not an IP address: a search domain (labels of letters, digits and '-'). */
const DOMAIN = /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

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
  if (!Number.isInteger(n) || n < min || n > max)
    fail(line, key, `${showValue(value)} is not an integer in ${min}..${max}`);
  return n;
}

/** Parses "host:port", "1.2.3.4:51820" or "[fd00::1]:51820". */
export function parseWgEndpoint(value: string, line = 0, key = 'Endpoint'): WgQuickEndpoint {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(value);
  const plain = /^([^:[\]]+):(\d+)$/.exec(value);
  const match = bracketed ?? plain;
  if (!match) fail(line, key, `${showValue(value)} is not host:port (IPv6 in brackets: [fd00::1]:51820)`);
  const host = match[1] as string;
  if (bracketed && isIP(host) !== 6) fail(line, key, `${showValue(host)} in brackets is not an IPv6 address`);
  // DNS labels are at most 63 characters, so no key (44 base64 characters with '=', or 64 hex) passes.
  if (!bracketed && !/^[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*\.?$/.test(host))
    fail(line, key, `${showValue(host)} is not an IPv4 address or a DNS name`);
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
  let peer: (Partial<WgQuickPeer> & { allowedIps: string[]; line: number; publicKeyLine?: number }) | undefined;
  let sawInterface = false;

  const peerLines: number[] = [];
  const finishPeer = () => {
    if (peer === undefined) return;
    if (peer.publicKey === undefined) fail(peer.line, 'Peer', 'PublicKey is required');
    const { line: _line, publicKeyLine, ...rest } = peer;
    peers.push(rest as WgQuickPeer);
    peerLines.push(publicKeyLine ?? peer.line);
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
        fail(line, showValue(content), 'unknown section (expected [Interface] or [Peer])');
      }
      return;
    }
    // A key name, then '='. Anything else ("PrivateKey <key>", where the key's own trailing '='
    // is the only one; a bare key on its own line) is reported by line and known name only.
    const eq = content.indexOf('=');
    const rawKey = eq < 0 ? '' : content.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(rawKey)) {
      const name = leadingKeyName(content, ALL_KEYS);
      if (name !== undefined)
        fail(line, name, `expected '${name} = value' (this line is not; its content is not shown)`);
      throw new TunConfigError(
        'ERR_WG_CONFIG',
        `line ${line}: expected 'Key = value' (this line is not; its content is not shown: it may hold a key)`,
      );
    }
    const value = content.slice(eq + 1).trim();
    const k = rawKey.toLowerCase();
    const known = ALL_KEYS.find((name) => name.toLowerCase() === k);
    // Only a known name is echoed as is: the text before '=' may be a key (a bare base64 key ends in '=').
    const key = known ?? rawKey;
    const unknown = (where: '[Interface]' | '[Peer]', names: readonly string[]): never => {
      if (known !== undefined)
        fail(line, key, `belongs in ${where === '[Peer]' ? '[Interface]' : '[Peer]'}, not in ${where}`);
      const { name, meant } = showKeyName(rawKey, names);
      if (name !== undefined) fail(line, `'${name}'`, `unknown key in ${where} (did you mean ${meant}?)`);
      throw new TunConfigError(
        'ERR_WG_CONFIG',
        `line ${line}: unknown key in ${where} (its name is not shown: it may be part of a key; ${where} takes ${names.join(', ')})`,
      );
    };
    if (section === undefined) {
      const name = known ?? showKeyName(rawKey, ALL_KEYS).name;
      if (name === undefined)
        throw new TunConfigError(
          'ERR_WG_CONFIG',
          `line ${line}: a key (its name is not shown: it may be part of a key) appears before any [Interface] or [Peer] section`,
        );
      fail(line, name, 'appears before any [Interface] or [Peer] section');
    }
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
              fail(line, key, `${showValue(a)} is not an address with a prefix (10.0.0.2/24, fd00::2/64)`);
            }
            iface.addresses.push(a);
          }
          break;
        case 'mtu':
          iface.mtu = integer(line, key, value, 68, 65535);
          break;
        case 'dns':
          for (const d of list(value)) {
            if (isIP(d) === 0 && !DOMAIN.test(d))
              fail(line, key, `${showValue(d)} is not an IP address or a search domain`);
            iface.dns.push(d);
          }
          break;
        case 'fwmark':
          iface.fwmark = value.toLowerCase() === 'off' ? 0 : integer(line, key, value, 0, 2 ** 32 - 1);
          break;
        case 'table':
          if (!/^(off|auto|\d+)$/i.test(value))
            fail(line, key, `${showValue(value)} is not off, auto or a table number`);
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
          if (!/^(true|false)$/i.test(value)) fail(line, key, `${showValue(value)} is not true or false`);
          iface.saveConfig = value.toLowerCase() === 'true';
          break;
        default:
          unknown('[Interface]', INTERFACE_KEYS);
      }
      return;
    }
    const p = peer as NonNullable<typeof peer>;
    switch (k) {
      case 'publickey':
        p.publicKey = parseKey(value, `line ${line}: PublicKey`);
        p.publicKeyLine = line;
        break;
      case 'presharedkey':
        p.presharedKey = parseKey(value, `line ${line}: PresharedKey`);
        break;
      case 'allowedips':
        for (const a of list(value)) {
          try {
            parseCidr(a);
          } catch {
            fail(line, key, `${showValue(a)} is not a CIDR (10.0.0.0/24, ::/0)`);
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
        unknown('[Peer]', PEER_KEYS);
    }
  });
  finishPeer();
  if (!sawInterface) fail(0, '[Interface]', 'the file has no [Interface] section');
  if (privateKey === undefined) fail(0, 'PrivateKey', 'the [Interface] section needs a PrivateKey');
  refuseSecretsAsPublicKeys(privateKey, peers, peerLines);
  return { interface: { ...iface, privateKey }, peers };
}

/**
 * A PublicKey is shown (wg show, --print-config); a secret key pasted into that field would be
 * too. So a PublicKey equal to the PrivateKey or to a PresharedKey of the file is refused, and so
 * is our own public key (a peer cannot be this interface). Neither key is quoted.
 */
function refuseSecretsAsPublicKeys(privateKey: Uint8Array, peers: WgQuickPeer[], lines: number[]): void {
  const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');
  const secrets = new Set([hex(privateKey), ...peers.flatMap((p) => (p.presharedKey ? [hex(p.presharedKey)] : []))]);
  const own = hex(publicKeyFrom(privateKey));
  peers.forEach((peer, i) => {
    const key = hex(peer.publicKey);
    const line = lines[i] as number;
    if (secrets.has(key))
      fail(
        line,
        'PublicKey',
        "is a secret key of this file (the PrivateKey or a PresharedKey): use the peer's public key ('wg pubkey')",
      );
    if (key === own) fail(line, 'PublicKey', "is this interface's own public key: use the peer's");
  });
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
          // The host is quoted: parseWgEndpoint took it only as a DNS name, which no key can be.
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
