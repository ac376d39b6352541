// tunkit_build_info: what runs, as one Prometheus gauge of value 1 whose labels say it (the app's
// version, Node.js, the platform, and which AEAD and UDP backends carry the data path), so a
// dashboard sees which build and which fast paths (or fallbacks) each daemon uses.

export interface BuildInfo {
  /** The app's version (its package.json). */
  version: string;
  /** The AEAD in use: defaultAead().name, e.g. "native (OpenSSL 3.0.15)" or "node:crypto". */
  aead: string;
  /** The UDP backend: "native" or "dgram". */
  udpBind: string;
}

/** The tunkit_build_info gauge, in Prometheus text format 0.0.4. */
export function renderBuildInfo(info: BuildInfo): string {
  const labels = {
    version: info.version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    aead: info.aead,
    udp_bind: info.udpBind,
  };
  const text = Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
    .join(',');
  return [
    '# HELP tunkit_build_info What runs: version, Node.js, platform, AEAD and UDP backends (value 1).',
    '# TYPE tunkit_build_info gauge',
    `tunkit_build_info{${text}} 1`,
    '',
  ].join('\n');
}
