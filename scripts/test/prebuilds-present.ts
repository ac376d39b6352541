// Whether the prebuilds exist for the tests in this folder: `npm test` builds them
// (scripts/test-all.mjs); a plain `turbo run build` does not. Outside CI their tests skip and say
// how to build them; in CI a missing prebuild is a failure.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { prebuildPackages } from '../prebuilds/build.mjs';
import { prebuildPath, targetById } from '../prebuilds/targets.mjs';

export function prebuildsSkipReason(root: string): string | false {
  const missing = prebuildPackages(root).flatMap((pkg: { dir: string; addon: string; targets: string[] }) =>
    pkg.targets
      .map((id) => join(pkg.dir, 'native', prebuildPath(targetById(id), pkg.addon)))
      .filter((file) => !existsSync(file)),
  );
  if (missing.length === 0 || process.env.CI === 'true') return false;
  const reason = `${missing.length} prebuilds are missing (build them with 'node scripts/prebuilds.mjs')`;
  console.log(`# skipping: ${reason}`);
  return reason;
}
