import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../src/report.js';
import { mnistDir, runCli } from './helpers.js';

function nativeLoads(): boolean {
  try {
    createRequire(import.meta.url)('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

// Runs both backends itself, so once per suite is enough: in the tensorflow pass.
const runHere = !!mnistDir && nativeLoads() && (process.env.ADVX_TEST_BACKEND ?? 'tensorflow') === 'tensorflow';

describe.skipIf(!runHere)('smoke sweep on tensorflow and on wasm (parity)', () => {
  it('gives every claim metric within its stated tolerance (2 pp where none is stated)', async () => {
    const reports: Report[] = [];
    for (const backend of ['tensorflow', 'wasm']) {
      const out = mkdtempSync(join(tmpdir(), `advx-parity-${backend}-`));
      const run = await runCli(['--preset', 'smoke', '--seeds', '1', '--workers', '2', '--out', out, '--data-dir', mnistDir!, '--backend', backend]);
      expect(run.code, run.stderr).toBe(0);
      reports.push(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report);
    }
    const [native, wasm] = reports;
    expect([native.backend, wasm.backend]).toEqual(['tensorflow', 'wasm']);
    for (const claim of native.claims) {
      const other = wasm.claims.find((c) => c.id === claim.id)!;
      for (const [name, metric] of Object.entries(claim.metrics)) {
        const difference = Math.abs(metric.mean - other.metrics[name].mean);
        expect(difference, `${claim.id} ${name}: tensorflow ${metric.mean} vs wasm ${other.metrics[name].mean}`).toBeLessThanOrEqual(metric.tolerance ?? 0.02);
      }
    }
  });
});
