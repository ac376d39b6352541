// The protocol's timer settings (whitepaper 6.1), injectable so tests can shorten them (a rekey in
// seconds instead of minutes) and drive them with a fake clock.

import {
  KEEPALIVE_TIMEOUT,
  REJECT_AFTER_MESSAGES,
  REJECT_AFTER_TIME,
  REKEY_AFTER_MESSAGES,
  REKEY_AFTER_TIME,
  REKEY_ATTEMPT_TIME,
  REKEY_TIMEOUT,
  REKEY_TIMEOUT_JITTER_MAX,
} from './constants.js';

export interface TimerSettings {
  rekeyAfterTime: number;
  rejectAfterTime: number;
  rekeyAttemptTime: number;
  rekeyTimeout: number;
  keepaliveTimeout: number;
  rekeyAfterMessages: number;
  rejectAfterMessages: number;
  jitterMax: number;
  /**
   * A new handshake starts when data went out and nothing authenticated came back for this long
   * (whitepaper: KEEPALIVE_TIMEOUT + REKEY_TIMEOUT = 15 s). A client may shorten it to find a
   * restarted peer sooner; the cost is at most one extra initiation per this interval during
   * one-way traffic.
   */
  unansweredDataTimeout: number;
}

export const DEFAULT_TIMERS: Readonly<TimerSettings> = {
  rekeyAfterTime: REKEY_AFTER_TIME,
  rejectAfterTime: REJECT_AFTER_TIME,
  rekeyAttemptTime: REKEY_ATTEMPT_TIME,
  rekeyTimeout: REKEY_TIMEOUT,
  keepaliveTimeout: KEEPALIVE_TIMEOUT,
  rekeyAfterMessages: REKEY_AFTER_MESSAGES,
  rejectAfterMessages: REJECT_AFTER_MESSAGES,
  jitterMax: REKEY_TIMEOUT_JITTER_MAX,
  unansweredDataTimeout: KEEPALIVE_TIMEOUT + REKEY_TIMEOUT,
};
