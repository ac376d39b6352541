// MemoryNetwork and MemoryBind: an in-memory UDP network for tests, so a Device and its peers run
// without sockets or privileges (wireguard-go's bindtest idea). Each bind has a bounded receive
// queue; a datagram to a full queue or to an address nobody is bound to is dropped and counted,
// as UDP would.

import { type PacketBatch, TunClosedError, TunConfigError } from '@tunkit/tun-core';
import { type Bind, type BindStats, type Endpoint, emptyBindStats, formatEndpoint } from './bind.js';
import { InboundDatagrams } from './inbound-datagrams.js';

/** The largest datagram a MemoryBind carries: room for a jumbo-frame MTU. */
const MEMORY_MAX_DATAGRAM = 8192;

export class MemoryNetwork {
  private readonly binds = new Map<string, MemoryBind>();
  /** Datagrams sent to an endpoint nobody is bound to. */
  undeliverable = 0;

  /** Binds `address:port`. Throws TunConfigError (ERR_BIND_IN_USE) when it is taken. */
  bind(address: string, port: number, options: { receiveQueue?: number } = {}): MemoryBind {
    const key = formatEndpoint({ address, port });
    if (this.binds.has(key))
      throw new TunConfigError('ERR_BIND_IN_USE', `${key} is already bound on this MemoryNetwork`);
    const bind = new MemoryBind(this, { address, port }, options.receiveQueue ?? 1024);
    this.binds.set(key, bind);
    return bind;
  }

  /** @internal Delivers one datagram; false when dropped. */
  deliver(from: Endpoint, to: Endpoint, datagram: Uint8Array): boolean {
    const target = this.binds.get(formatEndpoint(to));
    if (target === undefined) {
      this.undeliverable++;
      return false;
    }
    return target.receive(datagram, from);
  }

  /** @internal */
  release(bind: MemoryBind): void {
    this.binds.delete(formatEndpoint(bind.local));
  }
}

export class MemoryBind implements Bind {
  readonly local: Endpoint;
  private readonly network: MemoryNetwork;
  private readonly inbound: InboundDatagrams;
  private readonly counters = emptyBindStats();
  private isClosed = false;

  /** @internal Use MemoryNetwork.bind. */
  constructor(network: MemoryNetwork, local: Endpoint, receiveQueue: number) {
    this.network = network;
    this.local = local;
    this.inbound = new InboundDatagrams(receiveQueue, MEMORY_MAX_DATAGRAM, this.counters);
  }

  get port(): number {
    return this.local.port;
  }

  /** The largest datagram it carries. */
  get maxDatagram(): number {
    return MEMORY_MAX_DATAGRAM;
  }

  /** @internal */
  receive(datagram: Uint8Array, from: Endpoint): boolean {
    return this.inbound.push(datagram, from);
  }

  recvMany(batch: PacketBatch, from: Endpoint[]): Promise<number> {
    return this.inbound.recvMany(batch, from);
  }

  sendMany(batch: PacketBatch, to: readonly Endpoint[] | Endpoint, start = 0): number {
    if (this.isClosed) throw new TunClosedError('UDP bind');
    for (let i = start; i < batch.length; i++) {
      const endpoint = Array.isArray(to) ? (to as readonly Endpoint[])[i] : (to as Endpoint);
      if (endpoint === undefined) throw new TunConfigError('ERR_BIND_ENDPOINT', `no endpoint for datagram ${i}`);
      const datagram = batch.packet(i);
      this.counters.txDatagrams++;
      this.counters.txBytes += datagram.length;
      this.network.deliver(this.local, endpoint, datagram);
    }
    return batch.length - start;
  }

  sendReady(): Promise<void> {
    return Promise.resolve();
  }

  stats(): BindStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.inbound.close();
    this.network.release(this);
  }
}
