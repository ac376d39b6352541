// Shared benchmark reporting: medians over repeated runs, a markdown table on stdout, and a
// JSON file in bench/results/ with the machine facts needed to compare runs, the calibration line
// (calibration.ts) among them: writeResults prints it under the table and stores it.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calibrate, calibrationLine } from './calibration.js';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Formats rows (objects with the same keys) as a markdown table. */
export function markdownTable(rows: readonly Record<string, string | number>[]): string {
  if (rows.length === 0) return '(no rows)';
  const headers = Object.keys(rows[0] as object);
  const cell = (v: string | number | undefined) => (typeof v === 'number' ? formatNumber(v) : (v ?? ''));
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${headers.map((h) => cell(row[h])).join(' | ')} |`);
  return lines.join('\n');
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(2);
}

/**
 * Writes `bench/results/<name>-<timestamp>.json` with the machine facts and the calibration, prints
 * the calibration line (measured now unless the bench called calibrate() before its runs, as one
 * that keeps processes busy in the background must), and returns the path.
 */
export function writeResults(name: string, data: unknown): string {
  const calibration = calibrate();
  console.log(`\n${calibrationLine(calibration)}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(RESULTS_DIR, `${name}-${stamp}.json`);
  const machine = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalMemory: totalmem(),
    loadavg: loadavg(),
    calibration,
  };
  writeFileSync(
    path,
    `${JSON.stringify({ name, date: new Date().toISOString(), machine, ...(data as object) }, null, 2)}\n`,
  );
  return path;
}
