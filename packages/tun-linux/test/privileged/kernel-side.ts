// Test helpers for the kernel side of a LinuxTun inside the test's own network namespace. The
// helpers themselves are tun-core's (testing/kernel-side.ts, shared with tun-android); this binds
// them to tun-linux's way of entering a namespace.

import { enterPrivilegedNamespace, type TestNamespace } from '@tunkit/tun-core/testing';
import { enterNetworkNamespace } from '../../src/index.js';

export { payloadSequence, sendUdp, udpSocket } from '@tunkit/tun-core/testing';

/** tun-core's enterPrivilegedNamespace, entered with tun-linux's enterNetworkNamespace. */
export function enterTestNamespace(
  what: string,
  options: { ipv6?: boolean } = {},
): { skip: string | false; ns?: TestNamespace } {
  return enterPrivilegedNamespace(what, enterNetworkNamespace, { prefix: 'tl', ...options });
}
