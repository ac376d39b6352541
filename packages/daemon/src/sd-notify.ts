// systemd's readiness protocol (sd_notify(3)) for Type=notify units: when $NOTIFY_SOCKET is set,
// the daemon sends READY=1 once the device is up (and again after each reload), RELOADING=1 when
// a SIGHUP starts one, and STOPPING=1 when it stops, each with a STATUS= line `systemctl status`
// shows. The datagram goes to an AF_UNIX socket, which node:dgram cannot send: tun-linux's
// sendUnixDatagram does it from the daemon's own process (systemd only listens to the main PID,
// NotifyAccess=main, so a helper like systemd-notify would be refused). Without $NOTIFY_SOCKET,
// or off Linux, nothing is sent. A failed send is logged once and never stops the daemon.

import type { Logger } from './logger.js';

export interface Notifier {
  ready(status: string): void;
  reloading(): void;
  stopping(status: string): void;
}

export interface DatagramSender {
  sendUnixDatagram(path: string, data: string): void;
}

/**
 * A Notifier for $NOTIFY_SOCKET in `env`, sending with `sender()` (the platform's, once loaded). The variable is
 * taken out of `env`, as sd_notify(unset_environment) does, so the hooks (children) do not inherit
 * a socket that is not theirs.
 */
export function systemdNotifier(
  sender: () => DatagramSender | undefined,
  env: NodeJS.ProcessEnv,
  log: Pick<Logger, 'warn' | 'debug'>,
): Notifier {
  const socket = env.NOTIFY_SOCKET;
  delete env.NOTIFY_SOCKET;
  let failed = false;
  const send = (message: string) => {
    if (!socket) return;
    try {
      const to = sender();
      if (!to) throw new Error('this platform has no AF_UNIX datagram sender');
      to.sendUnixDatagram(socket, message);
      log.debug({ notify: message.split('\n')[0] }, 'told systemd');
    } catch (error) {
      if (failed) return;
      failed = true;
      log.warn({ socket, error: (error as Error).message }, 'could not notify systemd ($NOTIFY_SOCKET)');
    }
  };
  const status = (text: string) => `STATUS=${text.replace(/\n/g, ' ')}`;
  return {
    ready: (text) => send(`READY=1\n${status(text)}`),
    // MONOTONIC_USEC: when the reload began, which systemd 253+ wants with RELOADING=1.
    reloading: () => send(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}\n${status('reloading')}`),
    stopping: (text) => send(`STOPPING=1\n${status(text)}`),
  };
}
