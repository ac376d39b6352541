// The LinuxTun devices open in this process, by interface name, so interface configuration can
// refuse what would break one: an MTU above what its queue slots hold.

interface OpenDevice {
  readonly closed: boolean;
  /** The largest MTU the device's queues hold (LinuxTun.maxMtu). */
  readonly maxMtu: number;
}

// Weak: a device dropped without close() is still closed by the garbage collector.
const byName = new Map<string, WeakRef<OpenDevice>>();

export function trackOpenDevice(name: string, device: OpenDevice): void {
  byName.set(name, new WeakRef(device));
}

export function untrackOpenDevice(name: string, device: OpenDevice): void {
  if (byName.get(name)?.deref() === device) byName.delete(name);
}

/** The MTU limit of the open device named `name` in this process, if there is one. */
export function openDeviceMtuLimit(name: string): number | undefined {
  const device = byName.get(name)?.deref();
  if (device === undefined || device.closed) {
    byName.delete(name);
    return undefined;
  }
  return device.maxMtu;
}
