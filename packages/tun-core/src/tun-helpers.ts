// Pieces every Tun implementation shares: option checks, the batch-size check of recvMany,
// async iteration over batches, and stats arithmetic. Platform packages use these so the
// contract's edge cases behave the same everywhere.

import { type Cidr, parseCidr } from './cidr.js';
import { TunConfigError } from './errors.js';
import { PacketBatch } from './packet-batch.js';
import { DEFAULT_MTU, MAX_MTU, MIN_MTU, type Tun, type TunQueueStats, type TunStats } from './tun.js';

/** Validates an MTU option (68..65535, default 1420). */
export function checkMtu(mtu: number | undefined): number {
  const value = mtu ?? DEFAULT_MTU;
  if (!Number.isInteger(value) || value < MIN_MTU || value > MAX_MTU) {
    throw new TunConfigError('ERR_TUN_MTU', `mtu must be an integer in ${MIN_MTU}..${MAX_MTU}, got ${String(mtu)}`);
  }
  return value;
}

/**
 * An optional integer option: `fallback` when undefined, else an integer in min..max or a
 * TunConfigError naming the value and the bounds (code: `code`, default ERR_TUN_<NAME>).
 */
export function checkIntegerOption(
  name: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
  code = `ERR_TUN_${name.toUpperCase()}`,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TunConfigError(code, `${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

/** An optional list of CIDR strings (addresses, routes), parsed; each keeps its text for messages. Throws ERR_CIDR. */
export function checkCidrList(what: string, list: unknown): { text: string; cidr: Cidr }[] {
  if (list === undefined) return [];
  if (!Array.isArray(list))
    throw new TunConfigError('ERR_CIDR', `${what} must be an array of CIDR strings, got ${typeof list}`);
  return list.map((text) => ({ text: String(text), cidr: parseCidr(text) }));
}

/** A Unix interface name (IFNAMSIZ: at most 15 characters). */
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** An optional Unix interface name option, or a TunConfigError (ERR_TUN_NAME) saying what is allowed. */
export function checkInterfaceName(name: unknown): string | undefined {
  if (name !== undefined && (typeof name !== 'string' || !INTERFACE_NAME.test(name))) {
    throw new TunConfigError(
      'ERR_TUN_NAME',
      `interface name must be 1..15 characters of A-Z a-z 0-9 _ . -, got '${String(name)}'`,
    );
  }
  return name;
}

/** Throws unless an empty `batch` can hold one packet of `mtu` bytes (so recvMany can always progress). */
export function checkRecvBatch(batch: PacketBatch, mtu: number): void {
  if (!(batch instanceof PacketBatch)) {
    throw new TunConfigError('ERR_TUN_BATCH', 'recvMany takes a PacketBatch (new PacketBatch({ capacity }))');
  }
  const room = batch.byteCapacity - batch.headroom - batch.tailroom;
  if (room < mtu) {
    throw new TunConfigError(
      'ERR_TUN_BATCH_TOO_SMALL',
      `this PacketBatch holds packets of at most ${room} bytes but the device MTU is ${mtu}: give it a larger byteCapacity`,
    );
  }
}

/** `for await (const batch of tun)`: one reused batch, refilled until the device closes. */
export async function* tunBatches(tun: Tun, batch = new PacketBatch()): AsyncGenerator<PacketBatch> {
  while ((await tun.recvMany(batch)) > 0) yield batch;
}

export function emptyQueueStats(): TunQueueStats {
  return { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0, txDropped: 0, rxStalls: 0 };
}

/** Totals over the queues, plus `txRefused`. The queue objects are copied. */
export function sumQueueStats(queues: readonly TunQueueStats[], txRefused: number): TunStats {
  const total: TunStats = { ...emptyQueueStats(), txRefused, queues: queues.map((q) => ({ ...q })) };
  for (const q of queues) {
    total.rxPackets += q.rxPackets;
    total.rxBytes += q.rxBytes;
    total.txPackets += q.txPackets;
    total.txBytes += q.txBytes;
    total.rxDropped += q.rxDropped;
    total.txDropped += q.txDropped;
    total.rxStalls += q.rxStalls;
  }
  return total;
}
