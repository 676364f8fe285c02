import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../src/report/model.js';
import { beyondContract, numbersOf, unitResults } from './contract.js';
import { backendArgs, mnistDir, machineryPass, nativeTensorFlowPass, runCli } from './helpers.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'advx-sweep-'));
const readReport = (out: string) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
const smoke = (out: string, extra: string[] = []) => ['--preset', 'smoke', '--seeds', '1,2', '--workers', '2', '--out', out, '--data-dir', mnistDir!, ...backendArgs(), ...extra];

// Every backend runs the sweep end to end and its determinism contract; the machinery tests
// (retries, failures, --reuse, another dataset) run in one pass only (helpers.ts, machineryPass).
describe.skipIf(!mnistDir)('smoke sweep end to end (2 workers)', () => {
  it('writes report.json with the documented keys, report.md, per-run results and a JSON-lines log; a rerun recomputes nothing', async () => {
    const out = scratch();
    const first = await runCli(smoke(out));
    expect(first.code, first.stderr).toBe(0);
    const report = readReport(out);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['experiment', 'preset', 'backend', 'seeds', 'wallSeconds', 'claims', 'runs', 'complete']));
    expect(report).toMatchObject({ experiment: 'fgsm-baseline', preset: 'smoke', seeds: [1, 2], complete: true });
    const expectedBackend = process.env.ADVX_TEST_BACKEND;
    if (expectedBackend && expectedBackend !== 'auto') expect(report.backend).toBe(expectedBackend);
    expect(report.claims.map((c) => c.id)).toEqual(['P1', 'P2']);
    const p2 = report.claims.find((c) => c.id === 'P2')!;
    for (const name of ['clean_error', 'adv_error', 'adv_confidence']) {
      const m = p2.metrics[name];
      expect(m.n).toBe(2);
      expect(m.values).toHaveLength(2);
      for (const v of m.values) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1);
    }
    expect(p2.metrics.adv_error.paper).toBe(0.894);
    // FGSM must hurt: adversarial error above clean error for softmax regression, seed by seed.
    const p1 = report.claims.find((c) => c.id === 'P1')!;
    p1.metrics.adv_error.values.forEach((v, i) => expect(v).toBeGreaterThan(p1.metrics.clean_error.values[i]));
    for (const run of report.runs) {
      expect(run.status).toBe('done');
      const result = JSON.parse(readFileSync(run.resultPath!, 'utf8'));
      expect(result).toMatchObject({ key: run.key, seed: run.seed, backend: report.backend });
    }
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| P2 | adv_error | 89.40% |');
    const logLines = readFileSync(join(out, 'sweep.log'), 'utf8').trim().split('\n');
    expect(() => logLines.map((l) => JSON.parse(l))).not.toThrow();
    expect(first.stderr).toContain(`backend: ${report.backend}`);

    const second = await runCli(smoke(out));
    expect(second.code, second.stderr).toBe(0);
    const again = readReport(out);
    expect(again.runs.every((r) => r.status === 'cached')).toBe(true);
    expect(again.claims).toEqual(report.claims);
  });

  /**
   * One seed three ways: a 2-worker farm and the inline executor at 1 TF thread per unit (the same
   * configuration, so bitwise equal), and inline at 2 threads (another split: within the contract).
   */
  async function threeWays(env: Record<string, string> = {}, backend = backendArgs()) {
    const [farm, inline1, inline2] = [scratch(), scratch(), scratch()];
    const common = (out: string) => ['--preset', 'smoke', '--seeds', '4', '--out', out, '--data-dir', mnistDir!, ...backend];
    for (const argv of [
      [...common(farm), '--workers', '2', '--threads-per-unit', '1'],
      [...common(inline1), '--executor', 'inline', '--threads-per-unit', '1'],
      [...common(inline2), '--executor', 'inline', '--threads-per-unit', '2'],
    ]) {
      const run = await runCli(argv, env);
      expect(run.code, run.stderr).toBe(0);
    }
    return { farm, inline1, inline2 };
  }

  /** The determinism contract (README, "Determinism"; test/contract.ts) between the three runs. */
  function checkContract({ farm, inline1, inline2 }: { farm: string; inline1: string; inline2: string }) {
    const [f, i1, i2] = [farm, inline1, inline2].map(readReport);
    // Threads per unit, as recorded: 1 and 1, then 2 where the backend has threads (tensorflow).
    const twoThreads = f.backend === 'tensorflow' ? 2 : 1;
    for (const [report, threads] of [[f, 1], [i1, 1], [i2, twoThreads]] as const) {
      expect(report.runs.map((r) => r.threads)).toEqual(report.runs.map(() => threads));
      expect(report.provenance).toMatchObject({ uniform: true, configurations: [{ backend: f.backend, threads, units: report.runs.length }] });
    }
    expect(readFileSync(join(inline2, 'report.md'), 'utf8')).toContain(`Provenance: ${f.backend}, ${twoThreads} thread`);

    // Same backend and threads per unit, farmed or inline: every number bitwise equal.
    const [farmUnits, inline1Units, inline2Units] = [farm, inline1, inline2].map(unitResults);
    expect(i1.claims).toEqual(f.claims);
    expect([...inline1Units.keys()].sort()).toEqual([...farmUnits.keys()].sort());
    for (const [key, result] of farmUnits) expect(numbersOf(inline1Units.get(key)!), `${result.role} (${key})`).toEqual(numbersOf(result));

    // Another split: each evaluation's metrics within the stated tolerance, one by one.
    expect([...inline2Units.keys()].sort()).toEqual([...farmUnits.keys()].sort());
    let compared = 0;
    for (const [key, result] of farmUnits) {
      if (result.config.kind !== 'evaluate') continue;
      expect(beyondContract(result.metrics, inline2Units.get(key)!.metrics), `${result.role} (${key})`).toEqual([]);
      compared += Object.keys(result.metrics).length;
    }
    expect(compared).toBeGreaterThanOrEqual(2 * 8); // softmax-fgsm and maxout-fgsm, every metric
    // The report's claims are these evaluations' numbers: the same ones, seed by seed.
    expect(i2.claims.map((c) => [c.id, Object.keys(c.metrics), c.runs])).toEqual(f.claims.map((c) => [c.id, Object.keys(c.metrics), c.runs]));
    return { farmReport: f, inlineReport: i1 };
  }

  it('same seed, backend and threads per unit → bitwise-equal numbers, farmed or inline; 2 threads per unit → within the contract\'s tolerance; each report profiles its farm', async () => {
    const runs = await threeWays();
    const { farmReport, inlineReport } = checkContract(runs);
    for (const [out, report, workers] of [[runs.farm, farmReport, 2], [runs.inline1, inlineReport, 1]] as const) {
      const { farm, runs: units } = report;
      expect(farm).toMatchObject({ workers, units: units.length, tensorsAfter: { min: 0, max: 0 } });
      const parts = Object.values(farm!.breakdown);
      expect(parts.every((x) => x >= 0)).toBe(true);
      expect(parts.reduce((x, y) => x + y, 0)).toBeCloseTo(farm!.overheadSeconds, 6);
      expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(new RegExp(`Farm: ${units.length} units computed on ${workers} worker`));
    }
  });

  // CPUs without AVX-512 VNNI/BF16 or AMX (AMD EPYC before Zen 4, older Xeons) get TensorFlow's Eigen
  // kernels rather than oneDNN's, and there the thread count changes the last bits (issue 11).
  // TF_ENABLE_ONEDNN_OPTS=0 selects those kernels on any x86 CPU, so the contract is checked where
  // it matters on every machine. Native TensorFlow only: wasm and cpu have no threads here.
  it.skipIf(!nativeTensorFlowPass())('the same contract holds with TensorFlow\'s Eigen kernels (TF_ENABLE_ONEDNN_OPTS=0), whose sums depend on the thread count', async () => {
    checkContract(await threeWays({ TF_ENABLE_ONEDNN_OPTS: '0' }, ['--backend', 'tensorflow']));
  });

  it.skipIf(!machineryPass())('retries a unit whose worker thread dies and loses nothing', async () => {
    const out = scratch();
    const run = await runCli(smoke(out), { ADVX_FAULT: 'exit:maxout-fgsm', ADVX_FAULT_ONCE: join(out, 'fault-marker') });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(out, 'fault-marker'))).toBe(true);
    const report = readReport(out);
    expect(report.complete).toBe(true);
    expect(report.runs.filter((r) => r.attempts === 2)).toHaveLength(1);
    expect(run.stderr).toMatch(/retrying maxout-fgsm/);
  });

  it.skipIf(!machineryPass())('a unit that always fails is reported as failed, the sweep still completes its report, exit 1', async () => {
    const out = scratch();
    const run = await runCli(smoke(out, ['--seeds', '1', '--retries', '1']), { ADVX_FAULT: 'throw:softmax' });
    expect(run.code).toBe(1);
    // One warning per retry, naming the attempt that failed, then one error once the attempts are spent.
    const lines = run.stderr.split('\n');
    expect(lines.filter((l) => /retrying softmax seed 1 /.test(l)).map((l) => /attempt (\d+) failed/.exec(l)?.[1])).toEqual(['1']);
    expect(lines.filter((l) => /failed softmax seed 1 .* after 2 attempts/.test(l))).toHaveLength(1);
    const report = readReport(out);
    expect(report.complete).toBe(false);
    // The failed model and every unit that reads it: its evaluations, its masking probes, and the battery's transfer evaluations from it and to it.
    expect(report.failures.map((f) => f.role).sort()).toEqual([
      'masking:maxout:fgsm from softmax', 'masking:maxout:pgd from softmax', 'masking:softmax', 'masking:softmax:fgsm from maxout', 'masking:softmax:pgd from maxout', 'softmax', 'softmax-fgsm', 'softmax-fgsm:clipped',
    ]);
    expect(report.claims.find((c) => c.id === 'P2')!.metrics.adv_error.n).toBe(1);
  });

  it.skipIf(!machineryPass())('--reuse copies finished units of another sweep (same key = same work) instead of recomputing them', async () => {
    const first = scratch();
    expect((await runCli(smoke(first, ['--seeds', '1']))).code).toBe(0);
    const second = scratch();
    const run = await runCli(['--experiment', 'adversarial-training', ...smoke(second, ['--seeds', '1', '--reuse', first])]);
    expect(run.code, run.stderr).toBe(0);
    const report = readReport(second);
    const cached = report.runs.filter((r) => r.status === 'cached').map((r) => r.role).sort();
    // The maxout net, its evaluations, and its masking probes (keyed by the model alone, so shared).
    expect(cached).toEqual(['masking:maxout', 'maxout', 'maxout-fgsm', 'maxout-fgsm:clipped']);
    // The copied model is usable by the units that read it.
    expect(report.runs.find((r) => r.role === 'maxout→adv')!.status).toBe('done');
    expect(existsSync(join(second, 'runs', report.runs.find((r) => r.role === 'maxout')!.key, 'model', 'model.json'))).toBe(true);
  });

  it.skipIf(!existsSync('/usr/share/datasets/fashion-mnist') || !machineryPass())('--dataset fashion-mnist runs an MNIST experiment on Fashion-MNIST', async () => {
    const out = scratch();
    const run = await runCli(['--preset', 'smoke', '--seeds', '1', '--workers', '2', '--out', out, '--dataset', 'fashion-mnist', ...backendArgs()]);
    expect(run.code, run.stderr).toBe(0);
    const report = readReport(out);
    expect(report.dataset).toBe('fashion-mnist');
    // A different dataset is different work: nothing is shared with MNIST runs by key.
    const result = JSON.parse(readFileSync(report.runs[0].resultPath!, 'utf8'));
    expect(result.config.dataset.name).toBe('fashion-mnist');
  });
});
