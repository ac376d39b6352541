// Runs under Wine with Windows Node.js (`make wine`): the REAL Windows build of the addon (WinTun
// loader, kernel32 table, receive and send threads) against reflector_wintun.dll, through
// tun-core's NativeTun. Writes its result to the file named in argv[2] (Wine's stdout to a pipe
// fails in Node), exits 0 only when every check passed.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [, , resultPath, addonPath, dllPath, coreDist] = process.argv;
const lines = [];
const log = (line) => lines.push(line);
let failed = false;
const check = (ok, what) => {
  log(`${ok ? 'ok' : 'FAIL'}: ${what}`);
  if (!ok) failed = true;
};

try {
  const { NativeTun, PacketBatch } = await import(coreDist);
  const addon = createRequire(import.meta.url)(addonPath);
  check(addon.backend === 'wintun', `backend is ${addon.backend}`);

  // A missing DLL names where it looked.
  try {
    new addon.WintunDevice(
      { name: 'x', ringCapacity: 1 << 20, mtu: 1420, dllPaths: ['C:\\nowhere\\wintun.dll'] },
      () => {},
    );
    check(false, 'a missing wintun.dll was refused');
  } catch (error) {
    check(
      error.wintunCode === 'WINTUN_MISSING' && error.tried.length === 3,
      `missing DLL: tried ${JSON.stringify(error.tried)}`,
    );
  }

  const ref = {};
  const device = new addon.WintunDevice(
    {
      name: 'tunkit-wine',
      ringCapacity: 1 << 20,
      mtu: 1420,
      inboundSlots: 64,
      pendingSlots: 16,
      sendRetryMicros: 20000,
      dllPaths: [dllPath],
    },
    () => ref.tun?.onWake(),
  );
  const tun = new NativeTun(device, { name: 'tunkit-wine', mtu: 1420, statsStride: 12 });
  ref.tun = tun;
  check(device.luid !== '0', `luid ${device.luid}`);

  const total = 2000;
  const packet = (seq) => {
    const p = new Uint8Array(200);
    p[0] = 0x45;
    p[2] = 0;
    p[3] = 200;
    p[9] = 17;
    new DataView(p.buffer).setUint32(28, seq);
    return p;
  };
  const received = [];
  const batch = new PacketBatch({ capacity: 100 });
  const receiving = (async () => {
    while (received.length < total) {
      const n = await tun.recvMany(batch);
      if (n === 0) break;
      for (const p of batch) received.push(new DataView(p.buffer, p.byteOffset).getUint32(28));
    }
  })();
  for (let i = 0; i < total; i++) {
    while (!tun.send(packet(i))) await tun.sendReady();
  }
  const timeout = new Promise((r) => setTimeout(() => r('timeout'), 20_000));
  check((await Promise.race([receiving, timeout])) !== 'timeout', 'every packet came back within 20 s');
  check(received.length === total && received.every((s, i) => s === i), `${received.length} packets back, in order`);
  const stats = tun.stats();
  log(`stats: ${JSON.stringify(stats)}`);
  check(
    stats.rxPackets === total && stats.txPackets === total && stats.txDropped === 0 && stats.rxDropped === 0,
    'counters',
  );

  // Close while the receive thread waits on the read event.
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  await tun.close();
  check(device.closedCleanly && Date.now() - started < 2000, `closed cleanly in ${Date.now() - started} ms`);

  // Open/close cycles: threads and handles are released (the process would hang or crash otherwise).
  for (let i = 0; i < 100; i++) {
    const d = new addon.WintunDevice(
      { name: `tunkit-wine-${i}`, ringCapacity: 131072, mtu: 1420, dllPaths: [dllPath] },
      () => {},
    );
    d.close();
    if (!d.closedCleanly) check(false, `cycle ${i}`);
  }
  check(true, '100 open/close cycles');

  // The adapter removed under a waiting recvMany (the reflector's end packet): WinTun's
  // ERROR_HANDLE_EOF ends the device by itself through tun-core's rule.
  const endRef = {};
  const ending = new addon.WintunDevice(
    { name: 'tunkit-wine-end', ringCapacity: 131072, mtu: 1420, dllPaths: [dllPath] },
    () => endRef.tun?.onWake(),
  );
  const endTun = new NativeTun(ending, { name: 'tunkit-wine-end', mtu: 1420, statsStride: 12 });
  endRef.tun = endTun;
  const pending = endTun.recvMany(new PacketBatch());
  const end = packet(0);
  end[9] = 253;
  check(endTun.send(end), 'the end packet was sent');
  const outcome = await Promise.race([pending, new Promise((r) => setTimeout(() => r('timeout'), 5_000))]);
  check(outcome === 0, `recvMany resolved ${outcome} after the adapter was removed`);
  check(
    endTun.closed && endTun.endedBy?.errno === 'ERROR_HANDLE_EOF' && endTun.endedBy?.syscall === 'WintunReceivePacket',
    `ended by itself: ${endTun.endedBy?.errno} from ${endTun.endedBy?.syscall}`,
  );
  check(ending.closedCleanly, 'the ended device closed cleanly');
} catch (error) {
  check(false, `threw: ${error?.stack ?? error}`);
}
writeFileSync(resultPath, `${lines.join('\n')}\n`);
process.exit(failed ? 1 : 0);
