// Loading a platform package's addon and calling into it: what every src/native.ts shares.
// Each platform package keeps its own src/native.ts as the only file that loads its binary; it
// calls loadNativeAddon once with its name, its native/ folder and how to build the addon, and
// wraps every addon call in callNative so OS failures arrive as TunOsError.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TunConfigError, TunOsError } from './errors.js';

/** How a package's addon is obtained, for the sentence a user reads when it does not load. */
export interface NativeAddonHint {
  /** How to build the addon, ending the message: "build it with '…' inside the package (needs …)". */
  build: string;
  /** The one OS the package runs on, e.g. { platform: 'linux', name: 'Linux' }; elsewhere the message names that. */
  onlyOn?: { platform: string; name: string };
  /** Set when the published package carries a prebuilt addon: what it is built for, and what it needs of the OS. */
  prebuilt?: { target: string; needs: string };
}

/**
 * What to tell the user when the addon does not load. Two cases: no build for this platform at
 * all (node-gyp-build found none), or a build that the OS refuses to load (an older glibc, musl,
 * a missing DLL): then the loader's own first line says which.
 */
export function nativeLoadFailureMessage(
  packageName: string,
  hint: NativeAddonHint,
  cause: unknown,
  platform: string,
  arch: string,
  nodeVersion: string,
): string {
  const detail = cause instanceof Error ? cause.message : String(cause);
  if (hint.onlyOn !== undefined && platform !== hint.onlyOn.platform) {
    return `${packageName} runs on ${hint.onlyOn.name} only, this is ${platform}: install the tunkit package for ${platform} instead`;
  }
  if (/No native build was found/.test(detail)) {
    const prebuilt =
      hint.prebuilt === undefined
        ? ''
        : `the published package carries a prebuilt addon for ${hint.prebuilt.target} only; on ${arch}, `;
    return `${packageName} has no native addon for ${platform}-${arch} (Node ${nodeVersion}): ${prebuilt}${hint.build}`;
  }
  const refused = `${packageName} could not load its native addon on ${platform}-${arch} (Node ${nodeVersion}): ${detail.split('\n')[0]}.`;
  if (hint.prebuilt === undefined) return `${refused} To rebuild it, ${hint.build}`;
  return `${refused} The prebuilt addon needs ${hint.prebuilt.needs}; elsewhere, ${hint.build}`;
}

/**
 * Loads the addon in `nativeDir` (the package's native/ folder, holding binding.gyp) with
 * node-gyp-build, resolved from that package; a failure becomes a TunConfigError
 * (ERR_TUN_NATIVE_MISSING) whose message says what to do.
 */
export function loadNativeAddon<Addon>(packageName: string, nativeDir: string, hint: NativeAddonHint): Addon {
  try {
    // Resolved from the platform package, which depends on node-gyp-build; tun-core does not.
    const require = createRequire(join(nativeDir, 'binding.gyp'));
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => Addon;
    return nodeGypBuild(nativeDir);
  } catch (error) {
    throw new TunConfigError(
      'ERR_TUN_NATIVE_MISSING',
      nativeLoadFailureMessage(packageName, hint, error, process.platform, process.arch, process.version),
      { cause: error },
    );
  }
}

/** The fields an addon sets on the errors it throws for a failed OS call (tunkit/os_error_js.hh). */
export interface NativeOsErrorFields {
  errno?: string;
  syscall?: string;
}

/** Runs a native call, turning an addon error with errno/syscall into TunOsError. */
export function callNative<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw nativeError(error);
  }
}

/** The error to throw for what an addon threw: a TunOsError when it carries errno, else itself. */
export function nativeError(error: unknown): unknown {
  const e = error as Error & NativeOsErrorFields;
  if (typeof e?.errno === 'string') return new TunOsError(e.errno, e.syscall ?? 'unknown', e.message, { cause: error });
  return error;
}
