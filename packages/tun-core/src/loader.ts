// The platform loader: picks the Tun package for this OS at run time. Platform packages are
// optional dependencies of the apps, so a user installs only the one that runs on their machine;
// when it is missing the error names the package to install.

import { TunConfigError } from './errors.js';
import type { TunPlatform } from './tun.js';

/** process.platform → the tunkit package that implements the Tun contract there. */
export const PLATFORM_PACKAGES: Readonly<Record<string, string>> = {
  linux: '@tunkit/tun-linux',
  win32: '@tunkit/tun-windows',
  darwin: '@tunkit/tun-darwin',
  android: '@tunkit/tun-android',
};

/** The package name for `platform`, or a TunConfigError (code ERR_TUN_PLATFORM_UNSUPPORTED). */
export function platformPackage(platform: string = process.platform): string {
  const name = PLATFORM_PACKAGES[platform];
  if (name === undefined) {
    throw new TunConfigError(
      'ERR_TUN_PLATFORM_UNSUPPORTED',
      `tunkit has no TUN support for platform '${platform}': supported are ${Object.keys(PLATFORM_PACKAGES).join(', ')}`,
    );
  }
  return name;
}

export interface LoadPlatformTunOptions {
  /** Platform to load for (default `process.platform`). */
  platform?: string;
  /** How to import a package (default: dynamic `import`). Tests and bundlers inject their own. */
  importer?: (specifier: string) => Promise<unknown>;
}

/**
 * Imports the Tun package for this platform. Throws TunConfigError with code
 * ERR_TUN_PLATFORM_MISSING (naming the package and the platform) when it is not installed, and
 * ERR_TUN_PLATFORM_INVALID when the module does not export `openTun`.
 */
export async function loadPlatformTun(options: LoadPlatformTunOptions = {}): Promise<TunPlatform> {
  const platform = options.platform ?? process.platform;
  const name = platformPackage(platform);
  const importer = options.importer ?? ((specifier: string) => import(specifier));
  let module: unknown;
  try {
    module = await importer(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const missingItself = String((error as Error).message).includes(name);
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && missingItself) {
      throw new TunConfigError(
        'ERR_TUN_PLATFORM_MISSING',
        `the TUN package for platform '${platform}' is not installed: run 'npm install ${name}' (it is an optional dependency; an install with --no-optional or on another OS skips it)`,
        { cause: error },
      );
    }
    throw error;
  }
  const openTun = (module as { openTun?: unknown }).openTun;
  if (typeof openTun !== 'function') {
    throw new TunConfigError(
      'ERR_TUN_PLATFORM_INVALID',
      `${name} does not export openTun(): is it a tunkit platform package?`,
    );
  }
  return module as TunPlatform;
}
