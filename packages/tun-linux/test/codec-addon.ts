// The only file that loads the tun-linux test addon (native/test-addon): the runtime addon's packet
// codecs over plain byte arrays, for tests. Built by the package's build, never shipped.
import { fileURLToPath } from 'node:url';
import { loadNativeAddon } from '@tunkit/tun-core';

export interface CodecAddon {
  /** The symmetric flow hash that picks a packet's queue (native/flow_hash.cc); 0 for a malformed packet. */
  flowHash(packet: Uint8Array): number;
  /** Splits an offload frame (virtio-net header + super-packet) into packets; null: malformed frame. */
  splitFrame(frame: Uint8Array): Uint8Array[] | null;
  /** Coalesces a run of packets into one frame: [frame, packets taken]. */
  coalesceRun(packets: Uint8Array[], udp: boolean): [Uint8Array, number];
}

let addon: CodecAddon | undefined;

/** The test addon, loaded on first use. */
export function codecAddon(): CodecAddon {
  addon ??= loadNativeAddon<CodecAddon>(
    '@tunkit/tun-linux (test addon)',
    fileURLToPath(new URL('../native/test-addon', import.meta.url)),
    { build: "build it with 'pnpm --filter @tunkit/tun-linux build', which builds native/test-addon too" },
  );
  return addon;
}
