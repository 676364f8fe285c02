import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../src/report/model.js';
import { beyondContract, unitResults } from './contract.js';
import { mnistDir, nativeTensorFlowPass, runCli } from './helpers.js';

// Runs both backends itself, so once per suite is enough: in the tensorflow pass.
const runHere = !!mnistDir && nativeTensorFlowPass();

describe.skipIf(!runHere)('smoke sweep on tensorflow and on wasm (parity)', () => {
  // Another backend sums in another order and has its own exp and log, each within a few ulps:
  // like another thread split, it may change whole examples and the rounding of means, and the
  // determinism contract's tolerance (test/contract.ts) is what is checked. Measured on 4 smoke
  // seeds: no rate moved, confidences by ≤ 1.6e-7.
  it('gives every evaluation metric within the determinism contract\'s tolerance', async () => {
    const outs: string[] = [];
    for (const backend of ['tensorflow', 'wasm']) {
      const out = mkdtempSync(join(tmpdir(), `advx-parity-${backend}-`));
      const run = await runCli(['--preset', 'smoke', '--seeds', '1', '--workers', '2', '--threads-per-unit', '1', '--out', out, '--data-dir', mnistDir!, '--backend', backend]);
      expect(run.code, run.stderr).toBe(0);
      outs.push(out);
    }
    const [native, wasm] = outs.map((out) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report);
    expect([native.backend, wasm.backend]).toEqual(['tensorflow', 'wasm']);
    const [nativeUnits, wasmUnits] = outs.map(unitResults);
    expect([...wasmUnits.keys()].sort()).toEqual([...nativeUnits.keys()].sort());
    let compared = 0;
    for (const [key, result] of nativeUnits) {
      if (result.config.kind !== 'evaluate' && result.config.kind !== 'masking') continue;
      expect(beyondContract(result.metrics, wasmUnits.get(key)!.metrics), `${result.role} (${key})`).toEqual([]);
      compared++;
    }
    // softmax and maxout, each unclipped and clipped; the battery's transfer evaluations (FGSM and PGD, each way); its two masking units.
    expect(compared).toBe(10);
  });
});
