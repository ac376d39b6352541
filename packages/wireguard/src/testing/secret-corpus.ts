// Broken configurations that each carry a known private and preshared key in a place where a
// parser might echo it (a line without '=', a bare key, a key split over two lines, a key in the
// wrong field or section, a typo in a key name), and the check that output holds no piece of
// either. The wg-quick and UAPI parsers' tests and the daemons' tests share them.

import { formatKey, generatePresharedKey, generatePrivateKey, keyToHex, publicKeyFrom } from '../protocol/keys.js';

export interface SecretKeys {
  privateKey: Uint8Array;
  presharedKey: Uint8Array;
  /** A peer's public key: not secret, shown by design. */
  peerPublicKey: Uint8Array;
}

export function secretKeys(): SecretKeys {
  return {
    privateKey: generatePrivateKey(),
    presharedKey: generatePresharedKey(),
    peerPublicKey: publicKeyFrom(generatePrivateKey()),
  };
}

export interface BrokenConfig {
  name: string;
  text: string;
  /** What the error must say (the line, the key name). */
  says: RegExp;
}

/** wg-quick files that must be refused without quoting a secret. */
export function brokenWgQuickConfigs(keys: SecretKeys): BrokenConfig[] {
  const k = formatKey(keys.privateKey);
  const p = formatKey(keys.presharedKey);
  const pub = formatKey(keys.peerPublicKey);
  const hex = keyToHex(keys.privateKey);
  const iface = `[Interface]\nPrivateKey = ${k}\n`;
  const peer = `[Peer]\nPublicKey = ${pub}\n`;
  const inInterface = (line: string, says: RegExp, name: string): BrokenConfig => ({
    name,
    text: `${iface}${line}\n`,
    says,
  });
  const inPeer = (line: string, says: RegExp, name: string): BrokenConfig => ({
    name,
    text: `${iface}${peer}${line}\n`,
    says,
  });
  return [
    { name: 'PrivateKey without =', text: `[Interface]\nPrivateKey ${k}\n`, says: /line 2: PrivateKey: expected/ },
    { name: 'PrivateKey: key', text: `[Interface]\nPrivateKey: ${k}\n`, says: /line 2: PrivateKey/ },
    { name: 'lowercase, no =', text: `[Interface]\nprivatekey\t${k}\n`, says: /line 2: PrivateKey/ },
    { name: 'a bare key in [Interface]', text: `${iface}${k}\n`, says: /line 3: .*not shown/ },
    { name: 'a bare key in [Peer]', text: `${iface}${peer}${p}\n`, says: /line 5: .*not shown/ },
    { name: 'a bare hex key', text: `${iface}${hex}\n`, says: /line 3: expected 'Key = value'/ },
    { name: 'a bare key before any section', text: `${k}\n${iface}`, says: /line 1: .*not shown/ },
    {
      name: 'a key split over two lines',
      text: `[Interface]\nPrivateKey = ${k.slice(0, 22)}\n${k.slice(22)}\n`,
      says: /line 2: PrivateKey/,
    },
    { name: "a key's tail wrapped onto its own line", text: `${iface}${k.slice(20)}\n`, says: /line 3: .*not shown/ },
    { name: 'key = key', text: `${iface}${k} = ${k}\n`, says: /line 3: .*not shown/ },
    { name: 'PrivateKey = key and more', text: `[Interface]\nPrivateKey = ${k} x\n`, says: /line 2: PrivateKey/ },
    inPeer(
      `PresharedKye = ${p}`,
      /line 5: 'PresharedKye': unknown key in \[Peer\] \(did you mean PresharedKey\?\)/,
      'a typo in PresharedKey',
    ),
    inInterface(`PresharedKey = ${p}`, /line 3: PresharedKey: belongs in \[Peer\]/, 'PresharedKey in [Interface]'),
    inPeer(`PresharedKey = ${p.slice(0, 43)}`, /line 5: PresharedKey/, 'a truncated PresharedKey'),
    inPeer(`PrivateKey = ${k}`, /line 5: PrivateKey: belongs in \[Interface\]/, 'PrivateKey in [Peer]'),
    {
      name: 'the PrivateKey as a PublicKey',
      text: `${iface}[Peer]\nPublicKey = ${k}\n`,
      says: /line 4: PublicKey: is a secret key/,
    },
    {
      name: 'a PresharedKey as a PublicKey',
      text: `${iface}${peer}PresharedKey = ${p}\n[Peer]\nPublicKey = ${p}\n`,
      says: /line 7: PublicKey: is a secret key/,
    },
    inInterface(`Address = 10.0.0.1/24, ${k}`, /line 3: Address: a value of 44 characters/, 'a key in Address'),
    inInterface(`Address = ${hex}`, /line 3: Address/, 'a hex key in Address'),
    inInterface(`ListenPort = ${k}`, /line 3: ListenPort/, 'a key in ListenPort'),
    inInterface(`MTU = ${k}`, /line 3: MTU/, 'a key in MTU'),
    inInterface(`FwMark = ${k}`, /line 3: FwMark/, 'a key in FwMark'),
    inInterface(`Table = ${k}`, /line 3: Table/, 'a key in Table'),
    inInterface(`DNS = 10.0.0.53, ${k}`, /line 3: DNS/, 'a key in DNS'),
    inInterface(`DNS = ${hex}`, /line 3: DNS/, 'a hex key in DNS'),
    inInterface(`SaveConfig = ${k}`, /line 3: SaveConfig/, 'a key in SaveConfig'),
    inInterface(`[${k}]`, /line 3: /, 'a key as a section'),
    inPeer(`AllowedIPs = ${p}`, /line 5: AllowedIPs/, 'a key in AllowedIPs'),
    inPeer(`Endpoint = ${k}`, /line 5: Endpoint/, 'a key as an Endpoint'),
    inPeer(`Endpoint = ${k}:51820`, /line 5: Endpoint/, 'a key as an Endpoint host'),
    inPeer(`Endpoint = ${hex}:51820`, /line 5: Endpoint/, 'a hex key as an Endpoint host'),
    inPeer(`Endpoint = [${k}]:51820`, /line 5: Endpoint/, 'a key in brackets'),
    inPeer(`Endpoint = 192.0.2.1:${k}`, /line 5: Endpoint/, 'a key as a port'),
    inPeer(`PersistentKeepalive = ${p}`, /line 5: PersistentKeepalive/, 'a key in PersistentKeepalive'),
  ];
}

/** UAPI set=1 bodies that must be refused without quoting a secret. */
export function brokenUapiBodies(keys: SecretKeys): BrokenConfig[] {
  const hex = keyToHex(keys.privateKey);
  const psk = keyToHex(keys.presharedKey);
  const pub = keyToHex(keys.peerPublicKey);
  const peer = `public_key=${pub}\n`;
  return [
    { name: 'private_key without =', text: `private_key ${hex}\n`, says: /not key=value/ },
    { name: 'a bare hex key', text: `${hex}\n`, says: /not key=value/ },
    { name: 'hex key = 1', text: `${hex}=1\n`, says: /unknown device key \(its name is not shown/ },
    { name: 'a base64 private key', text: `private_key=${formatKey(keys.privateKey)}\n`, says: /private_key/ },
    { name: 'listen_port=key', text: `listen_port=${hex}\n`, says: /listen_port/ },
    { name: 'fwmark=key', text: `fwmark=${hex}\n`, says: /fwmark/ },
    { name: 'replace_peers=key', text: `replace_peers=${hex}\n`, says: /replace_peers/ },
    { name: 'a typo in preshared_key', text: `${peer}preshared_kye=${psk}\n`, says: /did you mean preshared_key/ },
    { name: 'a short preshared_key', text: `${peer}preshared_key=${psk.slice(0, 62)}\n`, says: /preshared_key/ },
    { name: 'endpoint=key', text: `${peer}endpoint=${psk}\n`, says: /endpoint/ },
    { name: 'endpoint=[key]:port', text: `${peer}endpoint=[${psk}]:51820\n`, says: /endpoint/ },
    { name: 'allowed_ip=key', text: `${peer}allowed_ip=${psk}\n`, says: /allowed_ip/ },
    { name: 'protocol_version=key', text: `${peer}protocol_version=${psk}\n`, says: /protocol_version/ },
    { name: 'remove=key', text: `${peer}remove=${psk}\n`, says: /remove/ },
    {
      name: 'persistent_keepalive_interval=key',
      text: `${peer}persistent_keepalive_interval=${psk}\n`,
      says: /persistent_keepalive_interval/,
    },
  ];
}

/** Every 12-character piece of a key's base64 and hex forms: 72 bits, never there by chance. */
function piecesOf(key: Uint8Array): string[] {
  const forms = [formatKey(key).replace(/=$/, ''), keyToHex(key)];
  return forms.flatMap((form) => Array.from({ length: form.length - 11 }, (_, i) => form.slice(i, i + 12)));
}

/** The secret keys of `keys` of which `output` holds a piece (base64 or hex), by name. */
export function leakedSecrets(output: string, keys: SecretKeys): string[] {
  const secrets: [string, Uint8Array][] = [
    ['private key', keys.privateKey],
    ['preshared key', keys.presharedKey],
  ];
  const lower = output.toLowerCase();
  return secrets
    .filter(([, key]) =>
      piecesOf(key).some((piece) => output.includes(piece) || (/^[0-9a-f]+$/.test(piece) && lower.includes(piece))),
    )
    .map(([name]) => name);
}
