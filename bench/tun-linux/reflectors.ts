// The contenders of bench/tun-linux: each opens a TUN device at 10.20.0.1/24 and reflects every
// packet it reads back to the kernel with source and destination addresses swapped (checksums stay
// valid: both sums are commutative), until stopped.

import { execFileSync } from 'node:child_process';
import { read, write } from 'node:fs';
import { PacketBatch } from '@tunkit/tun-core';
import { openTun } from '@tunkit/tun-linux';
import { TunTap } from 'appium-ios-tuntap';

export interface Reflector {
  name: string;
  /** Opens the device (configured, up) and returns a function that starts reflecting until `stop()` resolves. */
  open(): Promise<{ run(stop: Promise<void>): Promise<void>; close(): Promise<void> }>;
}

/** Swaps the IPv4 source and destination of the packet at `offset` in `buffer`, in place. */
function swapAddresses(buffer: Uint8Array, offset = 0): void {
  for (let i = offset + 12; i < offset + 16; i++) {
    const t = buffer[i] as number;
    buffer[i] = buffer[i + 4] as number;
    buffer[i + 4] = t;
  }
}

const ADDRESS = '10.20.0.1/24';

export function tunkitReflector(queues: number, batchSize: number, offload = true): Reflector {
  return {
    name: `tunkit queues=${queues} batch=${batchSize}${offload ? '' : ' offload=off'}`,
    async open() {
      const tun = await openTun({ name: 'tkbench0', queues, addresses: [ADDRESS], offload });
      return {
        async run(stop) {
          let stopped = false;
          void stop.then(() => {
            stopped = true;
            void tun.close();
          });
          const batch = new PacketBatch({ capacity: batchSize });
          while (!stopped && (await tun.recvMany(batch)) > 0) {
            // Straight on the batch memory: no view per packet.
            for (let i = 0; i < batch.length; i++) swapAddresses(batch.buffer, batch.offsets[i] as number);
            let sent = 0;
            while (sent < batch.length && !stopped) {
              sent += tun.sendMany(batch, sent);
              if (sent < batch.length) await tun.sendReady();
            }
          }
        },
        close: () => tun.close(),
      };
    },
  };
}

function appiumDevice(): TunTap {
  const device = new TunTap('tkbench0');
  device.open();
  execFileSync('ip', ['addr', 'add', ADDRESS, 'dev', device.name]);
  execFileSync('ip', ['link', 'set', device.name, 'up']);
  return device;
}

/** appium-ios-tuntap's read()/write(): one synchronous non-blocking read per packet; yields when empty. */
export const appiumReflector: Reflector = {
  name: 'appium-ios-tuntap read()/write()',
  async open() {
    const device = appiumDevice();
    return {
      async run(stop) {
        let stopped = false;
        void stop.then(() => {
          stopped = true;
        });
        while (!stopped) {
          const packet = device.read(2048);
          if (packet.length === 0) {
            await new Promise((r) => setImmediate(r));
            continue;
          }
          swapAddresses(packet);
          device.write(packet);
        }
      },
      async close() {
        device.close();
      },
    };
  },
};

/** The naive reader: fs.read / fs.write on the single TUN fd, one libuv threadpool request per packet. */
export const fsReflector: Reflector = {
  name: 'naive fs.read/fs.write, single fd',
  async open() {
    const device = appiumDevice();
    const fd = device.fd;
    const buffer = Buffer.alloc(2048);
    return {
      async run(stop) {
        let stopped = false;
        void stop.then(() => {
          stopped = true;
        });
        while (!stopped) {
          const n = await new Promise<number>((resolve) =>
            read(fd, buffer, 0, buffer.length, null, (error, bytes) => resolve(error ? 0 : bytes)),
          );
          if (n === 0) {
            await new Promise((r) => setImmediate(r)); // EAGAIN: the fd is non-blocking
            continue;
          }
          const packet = buffer.subarray(0, n);
          swapAddresses(packet);
          await new Promise<void>((resolve) => write(fd, packet, () => resolve()));
        }
      },
      async close() {
        device.close();
      },
    };
  },
};
