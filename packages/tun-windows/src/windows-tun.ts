// WindowsTun: the Tun contract over a WinTun session (tun-core's NativeTun), plus the adapter's
// identity, IP Helper configuration and the WinTun-specific counters. An adapter removed under it
// (WinTun's ERROR_HANDLE_EOF) ends the device by itself: the addon maps it to tun-core's endedBy.

import { type Cidr, NativeTun, type TunStats } from '@tunkit/tun-core';
import { callNative, type NativeWintunDevice } from './native.js';

/** Numbers per row of the addon's stats(): tun-core's 7, then the WinTun ones below. */
export const WINDOWS_STATS_FIELDS = 12;

export interface WindowsTunStats extends TunStats {
  /** Times the receive thread slept on WinTun's read event (the ring stayed empty after spinning). */
  rxWaits: number;
  /** Packets the receive thread found while spinning, without sleeping. */
  rxSpinHits: number;
  /** ERROR_BUFFER_OVERFLOW answers from AllocateSendPacket (the send ring was full). */
  txOverflows: number;
  /** Packets that waited in the pending queue for room in the send ring. */
  txQueued: number;
  /** Packets in the pending queue now. */
  txPending: number;
}

export class WindowsTun extends NativeTun {
  /** The adapter's NET_LUID, as a decimal string. */
  readonly luid: string;
  /** False when an adapter of this name already existed and was opened. */
  readonly created: boolean;
  private readonly wintun: NativeWintunDevice;

  constructor(device: NativeWintunDevice, name: string, mtu: number) {
    super(device, { name, mtu, statsStride: WINDOWS_STATS_FIELDS });
    this.wintun = device;
    this.luid = device.luid;
    this.created = device.created;
  }

  override stats(): WindowsTunStats {
    const raw = this.wintun.stats();
    const base = this.totals(this.queueStats(raw));
    return {
      ...base,
      rxWaits: raw[7] as number,
      rxSpinHits: raw[8] as number,
      txOverflows: raw[9] as number,
      txQueued: raw[10] as number,
      txPending: raw[11] as number,
    };
  }

  /** Sets the MTU of IPv4 and IPv6 (where IPv6 is enabled) through SetIpInterfaceEntry. */
  setMtu(mtu: number): void {
    callNative(() => {
      this.wintun.setMtu(4, mtu);
      this.wintun.setMtu(6, mtu);
    });
  }

  /** Adds an address (CreateUnicastIpAddressEntry); one already there is fine. */
  addAddress(cidr: Cidr): void {
    callNative(() => this.wintun.addAddress(cidr.address, cidr.prefix));
  }

  /** Adds an on-link route through the adapter (CreateIpForwardEntry2); one already there is fine. */
  addRoute(cidr: Cidr, metric = 0): void {
    callNative(() => this.wintun.addRoute(cidr.address, cidr.prefix, metric));
  }

  /** Deletes a route added with addRoute (DeleteIpForwardEntry2); one already gone is fine. */
  deleteRoute(cidr: Cidr): void {
    callNative(() => this.wintun.deleteRoute(cidr.address, cidr.prefix));
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    await super.close();
    if (!this.wintun.closedCleanly) {
      process.emitWarning(
        `WinTun adapter '${this.name}': a native thread did not stop within 5 s; its session was left open until the process exits`,
        { code: 'TUNKIT_WINTUN_SHUTDOWN' },
      );
    }
  }
}
