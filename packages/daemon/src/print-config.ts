// --print-config: the effective configuration, wg-quick text with the daemon's own settings as
// comments. Secret keys (PrivateKey, PresharedKey) are redacted; public keys are not secret and
// are shown, our own included, since that is what a peer's config needs. Hook commands are free
// text that may carry a key on purpose (`PostUp = wg set %i private-key <(echo …)`): any key-shaped
// word in them is redacted too.

import { formatKey, publicKeyFrom, redactKeys, serializeWgQuick } from '@tunkit/wireguard';
import type { DaemonSettings } from './settings.js';

export const REDACTED = '(redacted)';

export function printableConfig(settings: DaemonSettings): string {
  const config = {
    ...settings.config,
    interface: { ...settings.config.interface, mtu: settings.mtu, listenPort: settings.listenPort },
  };
  const text = serializeWgQuick(config)
    .replace(/^(PrivateKey|PresharedKey) = .*$/gm, `$1 = ${REDACTED}`)
    .replace(/^(PreUp|PostUp|PreDown|PostDown) = .*$/gm, (line) => redactKeys(line, REDACTED))
    .replace(
      /^PrivateKey = .*$/m,
      (line) => `${line}\n# PublicKey = ${formatKey(publicKeyFrom(settings.config.interface.privateKey))}`,
    );
  const daemon = [
    `# tunkit-${settings.role} (${settings.configPath})`,
    `# name = ${settings.name}`,
    `# tun-queues = ${settings.tunQueues}, udp-bind = ${settings.udpBind}, udp-threads = ${settings.udpThreads}, data-plane = ${settings.dataPlane}, offload = ${settings.offload ? 'on' : 'off'}`,
    `# log-level = ${settings.logLevel}, log-format = ${settings.logFormat}`,
    ...(settings.mtu === undefined
      ? ['# mtu = auto: the MTU of the routes to the endpoints - 80, at start (as wg-quick)']
      : []),
    `# metrics-listen = ${settings.metricsListen ? `${settings.metricsListen.host}:${settings.metricsListen.port}` : 'off'}`,
    `# uapi = ${settings.uapi ? `/var/run/wireguard/${settings.name}.sock` : 'off'}`,
    `# allow-hooks = ${settings.allowHooks}`,
  ];
  if (settings.role === 'gateway') {
    daemon.push(
      `# forward = ${settings.forward}, masquerade = ${settings.masquerade ?? 'off'}, allow-peer-to-peer = ${settings.allowPeerToPeer}`,
    );
  }
  return `${daemon.join('\n')}\n${text}`;
}
