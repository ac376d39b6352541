// Undoing journalled host changes: the leftovers of a run that did not exit cleanly (at the next
// start, or by --cleanup), and this run's own changes when it stops.

import type { TunPlatform } from '@tunkit/tun-core';
import { isLinuxHostApi, type LinuxHostApi } from './host/linux-api.js';
import { describeChange, undoLinuxChange } from './host/linux-undo.js';
import type { Journal } from './journal.js';
import { StartupError } from './startup-error.js';

/** The loaded platform package's host API (routes, rules) where it has one: Linux. */
export function hostApi(platform: TunPlatform): LinuxHostApi | undefined {
  return isLinuxHostApi(platform) ? platform : undefined;
}

/**
 * Undoes the host changes a previous run of `name` left in `journal` (it did not exit cleanly).
 * Works on the caller's Journal object, so what it records next holds only the new changes.
 */
export async function undoLeftovers(
  journal: Journal,
  name: string,
  api: LinuxHostApi | undefined,
  say: (line: string) => void,
): Promise<string> {
  if (!api) throw new StartupError('--cleanup of host changes is implemented for Linux only');
  const count = journal.pending.length;
  await journal.undoAll(
    (change) => {
      undoLinuxChange(api, change);
      say(`removed ${describeChange(change)}`);
    },
    (change, error) => say(`could not undo ${describeChange(change)}: ${(error as Error).message}`),
  );
  return `cleaned up ${count} change(s) left by ${name}`;
}

/** Undoes this run's journalled changes, newest first, and removes the journal file. */
export async function undoOwnChanges(
  journal: Journal,
  api: LinuxHostApi | undefined,
  onError: (description: string, error: unknown) => void,
): Promise<void> {
  if (!api) return; // nothing is journalled off Linux
  await journal.undoAll(
    (change) => undoLinuxChange(api, change),
    (change, error) => onError(describeChange(change), error),
  );
}
