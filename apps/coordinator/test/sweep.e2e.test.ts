import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../src/report.js';
import { backendArgs, mnistDir, runCli } from './helpers.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'advx-sweep-'));
const readReport = (out: string) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
const smoke = (out: string, extra: string[] = []) => ['--preset', 'smoke', '--seeds', '1,2', '--workers', '2', '--out', out, '--data-dir', mnistDir!, ...backendArgs(), ...extra];

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

  it('same seed → same numbers on one backend, farmed or inline (no workers); each report profiles its farm', async () => {
    const [a, b, inline] = [scratch(), scratch(), scratch()];
    for (const out of [a, b]) expect((await runCli(smoke(out, ['--seeds', '4']))).code).toBe(0);
    const inlineArgs = smoke(inline, ['--seeds', '4', '--executor', 'inline']).filter((arg, i, all) => arg !== '--workers' && all[i - 1] !== '--workers');
    const inlineRun = await runCli(inlineArgs);
    expect(inlineRun.code, inlineRun.stderr).toBe(0);
    expect(readReport(a).claims).toEqual(readReport(b).claims);
    expect(readReport(inline).claims).toEqual(readReport(a).claims);
    for (const [out, workers] of [[a, 2], [inline, 1]] as const) {
      const { farm, runs } = readReport(out);
      expect(farm).toMatchObject({ workers, units: runs.length, tensorsAfter: { min: 0, max: 0 } });
      const parts = Object.values(farm!.breakdown);
      expect(parts.every((x) => x >= 0)).toBe(true);
      expect(parts.reduce((x, y) => x + y, 0)).toBeCloseTo(farm!.overheadSeconds, 6);
      expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(new RegExp(`Farm: ${runs.length} units computed on ${workers} worker`));
    }
  });

  it('retries a unit whose worker thread dies and loses nothing', async () => {
    const out = scratch();
    const run = await runCli(smoke(out), { ADVX_FAULT: 'exit:maxout-fgsm', ADVX_FAULT_ONCE: join(out, 'fault-marker') });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(out, 'fault-marker'))).toBe(true);
    const report = readReport(out);
    expect(report.complete).toBe(true);
    expect(report.runs.filter((r) => r.attempts === 2)).toHaveLength(1);
    expect(run.stderr).toMatch(/retrying maxout-fgsm/);
  });

  it('a unit that always fails is reported as failed, the sweep still completes its report, exit 1', async () => {
    const out = scratch();
    const run = await runCli(smoke(out, ['--seeds', '1', '--retries', '1']), { ADVX_FAULT: 'throw:softmax' });
    expect(run.code).toBe(1);
    const report = readReport(out);
    expect(report.complete).toBe(false);
    expect(report.failures.map((f) => f.role).sort()).toEqual(['softmax', 'softmax-fgsm', 'softmax-fgsm:clipped']);
    expect(report.claims.find((c) => c.id === 'P2')!.metrics.adv_error.n).toBe(1);
  });

  it('--reuse copies finished units of another sweep (same key = same work) instead of recomputing them', async () => {
    const first = scratch();
    expect((await runCli(smoke(first, ['--seeds', '1']))).code).toBe(0);
    const second = scratch();
    const run = await runCli(['--experiment', 'adversarial-training', ...smoke(second, ['--seeds', '1', '--reuse', first])]);
    expect(run.code, run.stderr).toBe(0);
    const report = readReport(second);
    const cached = report.runs.filter((r) => r.status === 'cached').map((r) => r.role).sort();
    expect(cached).toEqual(['maxout', 'maxout-fgsm', 'maxout-fgsm:clipped']);
    // The copied model is usable by the units that read it.
    expect(report.runs.find((r) => r.role === 'maxout→adv')!.status).toBe('done');
    expect(existsSync(join(second, 'runs', report.runs.find((r) => r.role === 'maxout')!.key, 'model', 'model.json'))).toBe(true);
  });

  it.skipIf(!existsSync('/usr/share/datasets/fashion-mnist'))('--dataset fashion-mnist runs an MNIST experiment on Fashion-MNIST', async () => {
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
