// The whole catalogue end to end: one smoke sweep of `--experiment all` through the built CLI,
// then report.json, report.md, the figures and report.html (in headless Chromium).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noBrowser, warnIfNoBrowser, withPage } from './browser.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPERIMENTS } from '../src/catalogue/experiments/index.js';
import { planExperiment } from '../src/catalogue/plan.js';
import type { Report } from '../src/report/model.js';
import { isMpDbmTrain, type EvaluateUnitConfig, type TrainUnitConfig, type UnitResult } from '../src/units/types.js';
import { craftedPath } from '../src/units/files.js';
import { backendArgs, mnistDir, runCli, type CliRun } from './helpers.js';

const backend = process.env.ADVX_TEST_BACKEND ?? 'auto';
// The smoke catalogue takes well under a minute on tfjs-node; on wasm it takes several times as long,
// so it runs only with the native backend (ADVX_CATALOGUE_E2E=1 forces it on any backend).
const nativeBackend = backend === 'tensorflow' || backend === 'auto' || process.env.ADVX_CATALOGUE_E2E === '1';
// Every claim of the paper but the CIFAR-10 ones (P3, P16) runs on MNIST.
const MNIST_CLAIMS = Array.from({ length: 19 }, (_, i) => `P${i + 1}`).filter((id) => !['P3', 'P16'].includes(id));
const experiments = Object.values(EXPERIMENTS);

warnIfNoBrowser('catalogue.e2e');

describe.skipIf(!mnistDir || !nativeBackend)('--experiment all --preset smoke --seeds 1 (tensorflow backend only; set ADVX_CATALOGUE_E2E=1 for others)', () => {
  const out = mkdtempSync(join(tmpdir(), 'advx-catalogue-'));
  let run: CliRun;
  let report: Report;
  /** The experiments the sweep ran: all but CIFAR-10 ones when CIFAR-10 is not available. */
  const ran = () => experiments.filter((e) => report.experiments.some((r) => r.id === e.id && !r.skipped));
  const expectedClaims = () => ran().flatMap((e) => e.claims.map((c) => c.id));

  beforeAll(async () => {
    run = await runCli(['--experiment', 'all', '--preset', 'smoke', '--seeds', '1', '--workers', '2', '--out', out, '--data-dir', mnistDir!, ...backendArgs()]);
    if (existsSync(join(out, 'report.json'))) report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  }, 900_000);
  // ADVX_CATALOGUE_KEEP=1 keeps the sweep's output for a person to look at.
  afterAll(() => {
    if (process.env.ADVX_CATALOGUE_KEEP === '1') console.log(`catalogue.e2e: output kept in ${out}`);
    else rmSync(out, { recursive: true, force: true });
  });

  it('exits 0 with a complete report over every experiment of the catalogue', () => {
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    expect(report).toMatchObject({ experiment: 'all', preset: 'smoke', seeds: [1], complete: true, failures: [] });
    if (backend !== 'auto') expect(report.backend).toBe(backend);
    expect(report.experiments.map((e) => e.id).sort()).toEqual(experiments.map((e) => e.id).sort());
    for (const e of report.experiments) {
      const spec = EXPERIMENTS[e.id];
      // Only an absent CIFAR-10 may skip an experiment, and the report says why.
      if (spec.dataset === 'cifar10' && e.skipped) expect(e.skipped).toMatch(/CIFAR-10/);
      else expect(e, e.id).toMatchObject({ skipped: null, seeds: [1] });
    }
    expect(ran().filter((e) => e.dataset === 'mnist').length).toBe(experiments.filter((e) => e.dataset === 'mnist').length);
    expect(report.runs.length).toBeGreaterThan(0);
    for (const r of report.runs) expect(r.status, r.role).toBe('done');
  });

  it('runs each distinct unit once: the maxout shared by eight experiments is trained once', () => {
    const results = report.runs.map((r) => JSON.parse(readFileSync(r.resultPath!, 'utf8')) as UnitResult);
    const mnistTrain = results.find((r) => r.config.kind === 'train' && r.config.dataset.name === 'mnist')!;
    const checksum = (mnistTrain.config as TrainUnitConfig).dataset.checksum;
    const planned = new Set(ran().filter((e) => e.dataset === 'mnist').flatMap((e) => planExperiment(e, 'smoke', [1], checksum).units.map((u) => u.key)));
    const mnistRuns = results.filter((r) => r.config.dataset.name === 'mnist').map((r) => r.key);
    expect(new Set(mnistRuns)).toEqual(planned);
    expect(mnistRuns).toHaveLength(planned.size);
    const sharedMaxout = results.filter((r) => r.config.kind === 'train' && !isMpDbmTrain(r.config) && r.config.model.name === 'maxout-240' && r.config.dataset.trainCount === 2000 && r.config.training.objective.kind === 'clean' && !r.config.rubbishClass);
    expect(sharedMaxout).toHaveLength(1);
    for (const id of ['fgsm-baseline', 'l1-weight-decay', 'adversarial-training', 'rbf-transfer', 'linearity', 'rubbish', 'fooling', 'robustness-curve']) {
      expect(planExperiment(EXPERIMENTS[id], 'smoke', [1], checksum).roles.get('maxout')?.get(1), id).toBe(sharedMaxout[0].key);
    }
  });

  it('crafts each transfer-matrix row once, stores its examples, and its cells read them', () => {
    const results = new Map(report.runs.map((r) => [r.key, JSON.parse(readFileSync(r.resultPath!, 'utf8')) as UnitResult]));
    const checksum = (results.values().next().value!.config.dataset as { checksum: string }).checksum;
    const plan = planExperiment(EXPERIMENTS['rbf-transfer'], 'smoke', [1], checksum);
    // Cells are planned units; a diagonal cell is the same unit as the white-box evaluation (same key).
    const cells = [...plan.roles].filter(([role]) => role.startsWith('matrix:transfer:')).map(([, bySeed]) => plan.units.find((u) => u.key === bySeed.get(1))!);
    expect(cells).toHaveLength(9);
    for (const cell of cells) expect(results.get(cell.key)?.metrics.adv_error, cell.role).toBeTypeOf('number');
    const crafts = new Set(cells.map((c) => (c.config as EvaluateUnitConfig).craftUnit));
    expect(crafts.size).toBe(3);
    for (const key of crafts) {
      const craft = results.get(key!)!;
      expect(craft.config.kind).toBe('craft');
      expect(craft.metrics.count).toBe(results.get(cells[0].key)!.metrics.count);
      expect(existsSync(craftedPath(join(out, 'runs'), key!)), `${key} examples`).toBe(true);
      // Each cell's source error is the row's, as crafted once.
      for (const cell of cells.filter((c) => (c.config as EvaluateUnitConfig).craftUnit === key)) expect(results.get(cell.key)!.metrics.source_adv_error).toBe(craft.metrics.source_adv_error);
    }
  });

  it('reports every claim of the paper with our numbers beside the paper’s', () => {
    expect(report.claims.map((c) => c.id).sort()).toEqual([...expectedClaims()].sort());
    for (const id of MNIST_CLAIMS) expect(report.claims.map((c) => c.id)).toContain(id);
    for (const claim of report.claims) {
      expect(claim.status, claim.id).not.toBe('no data');
      expect(claim.runs.length, claim.id).toBeGreaterThan(0);
      const spec = experiments.flatMap((e) => e.claims).find((c) => c.id === claim.id)!;
      expect(Object.keys(claim.metrics).sort()).toEqual(Object.keys(spec.metrics).sort());
      for (const [name, metric] of Object.entries(claim.metrics)) {
        expect(metric.paper, `${claim.id}.${name}`).toBe(spec.metrics[name].paper);
        // A metric can be undefined on smoke models (e.g. confidence on false positives when there are none); then it is reported as such.
        expect([0, 1], `${claim.id}.${name}`).toContain(metric.n);
        if (metric.n === 0) {
          expect(metric.status).toBe('no data');
          continue;
        }
        expect(metric.values).toEqual([metric.mean]);
        // Rates, except the epoch count early stopping chose and the plain numbers (margins, norms, ε*), which are finite.
        if (name === 'chosen_epochs') expect([1, 2]).toContain(metric.mean);
        else if (spec.metrics[name].unit === 'number') expect(Number.isFinite(metric.mean), `${claim.id}.${name}`).toBe(true);
        else expect(metric.mean, `${claim.id}.${name}`).toBeGreaterThanOrEqual(0), expect(metric.mean, `${claim.id}.${name}`).toBeLessThanOrEqual(1);
      }
    }
    // These come from units that always define them.
    const value = (id: string, metric: string) => report.claims.find((c) => c.id === id)!.metrics[metric];
    for (const [id, metric] of [['P1', 'adv_error'], ['P2', 'adv_error'], ['P4', 'adv_error'], ['P5', 'train_error_l1_0025'], ['P7', 'chosen_epochs'], ['P11', 'adv_error'], ['P14', 'ensemble_adv_error'], ['P15', 'rbf_rate'], ['P17', 'mean_success'], ['P19', 'piecewise_linear_r2']] as const) {
      expect(value(id, metric).n, `${id}.${metric}`).toBe(1);
    }
    // FGSM hurts softmax regression even on smoke models.
    expect(value('P1', 'adv_error').mean).toBeGreaterThan(value('P1', 'clean_error').mean);
  });

  it('fills the transfer matrices and the robustness curves', () => {
    // The paper's (unclipped) matrix and its clipped twin (clipping.ts).
    expect(report.matrices.map((m) => m.id).sort()).toEqual(['transfer-adv_error', 'transfer-agreement', 'transfer-agreement_both_wrong', 'transfer-clipped-adv_error', 'transfer-clipped-agreement', 'transfer-clipped-agreement_both_wrong']);
    for (const matrix of report.matrices) {
      expect(matrix.models).toEqual(['maxout', 'softmax', 'rbf']);
      expect(matrix.values).toHaveLength(3);
      for (const row of matrix.values) expect(row).toHaveLength(3);
    }
    const adv = report.matrices.find((m) => m.metric === 'adv_error')!;
    for (const row of adv.values) for (const v of row) expect(v).not.toBeNull(), expect(v!).toBeGreaterThanOrEqual(0), expect(v!).toBeLessThanOrEqual(1);
    // On its own adversarial examples a model always agrees with itself.
    const agreement = report.matrices.find((m) => m.metric === 'agreement')!;
    agreement.values.forEach((row, i) => (row[i] === null ? undefined : expect(row[i]).toBe(1)));

    expect(report.curves.map((c) => c.id)).toEqual(['mp-dbm-ablation', 'robustness', 'strong-attacks']);
    const [ablation, curve, strong] = report.curves;
    // 11 nets (10 MP-DBM variants and the maxout net) × FGSM and PGD, at ε = .1 and .25.
    expect(ablation.series).toHaveLength(22);
    for (const series of ablation.series) expect(series.points.map(([eps]) => eps), `${series.model}/${series.attack}`).toEqual([0.1, 0.25]);
    // 5 models (softmax, maxout, maxout-adv, RBF, MP-DBM) × 9 attacks (every attack of the project and their worst case).
    expect(curve.series).toHaveLength(45);
    for (const series of curve.series) {
      expect(series.points.map(([eps]) => eps), `${series.model}/${series.attack}`).toEqual([0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
      for (const [, error] of series.points) expect(error).toBeGreaterThanOrEqual(0), expect(error).toBeLessThanOrEqual(1);
    }
    // 2 maxout nets × 8 attacks; the worst case is at least each deterministic member (FGSM, MI-FGSM),
    // which run inside it exactly as alone.
    expect(strong.series).toHaveLength(16);
    for (const model of ['maxout', 'maxout-adv']) {
      const at = (attack: string) => strong.series.find((s) => s.model === model && s.attack === attack)!.points;
      expect(at('worst-case').map(([eps]) => eps)).toEqual([0.1, 0.25]);
      at('worst-case').forEach(([, worst], i) => {
        for (const member of ['fgsm', 'mi-fgsm']) expect(worst!, `${model} ${member}`).toBeGreaterThanOrEqual(at(member)[i][1]!);
      });
    }
  });

  it('runs the gradient-masking battery on every model each experiment lists, and qualifies the claims that read a failing one', () => {
    const withBattery = ran().filter((e) => e.battery);
    expect(withBattery.map((e) => e.id).sort()).toEqual(['adversarial-training', 'fgsm-baseline', 'mp-dbm', 'robustness-curve', 'strong-attacks']);
    for (const e of withBattery) {
      for (const model of e.battery!.models) {
        const checks = report.checks.filter((c) => c.experiment === e.id && c.model === model && c.seed === 1);
        // The adversarially trained nets, trained with the PGD monitor, add the catastrophic-overfitting check.
        const monitored = !!(e.models[model].training.smoke as { monitor?: unknown }).monitor;
        expect(checks.map((c) => c.id), `${e.id} ${model}`).toEqual([
          'monotone-eps', 'iterative-beats-single', 'unbounded-reaches-100', 'transfer-below-whitebox', 'black-box-below-white-box', 'more-steps-no-change', 'zero-gradients',
          ...(monitored ? ['catastrophic-overfitting'] : []),
        ]);
        for (const c of checks) {
          expect(['pass', 'fail', 'n/a'], c.id).toContain(c.status);
          expect(c.detail.length, c.id).toBeGreaterThan(10);
          // Every model here names a transfer source, so no check is n/a.
          expect(c.status, `${e.id} ${model} ${c.id}`).not.toBe('n/a');
        }
      }
    }
    // A claim is qualified exactly by the failing checks of the models it reads.
    for (const claim of report.claims) {
      const failing = report.checks.filter((c) => c.experiment === claim.experiment && c.status === 'fail' && claim.qualifiedBy.some((q) => q.model === c.model && q.check === c.id));
      expect(claim.qualifiedBy.every((q) => failing.some((c) => c.model === q.model && c.id === q.check)), claim.id).toBe(true);
      expect(claim.qualification === '', claim.id).toBe(claim.qualifiedBy.length === 0);
    }
    const p2 = report.claims.find((c) => c.id === 'P2')!;
    const maxoutFails = report.checks.filter((c) => c.experiment === 'fgsm-baseline' && c.model === 'maxout' && c.status === 'fail').map((c) => c.id);
    expect(p2.qualifiedBy.map((q) => q.check).sort()).toEqual(maxoutFails.sort());
  });

  it('draws every figure the experiments list as SVG and PNG', () => {
    const ids = report.figures.map((f) => f.id);
    for (const e of ran()) for (const figure of e.figures ?? []) expect(ids.some((id) => id === figure || id.startsWith(`${figure}-`)), figure).toBe(true);
    expect(ids).toEqual(expect.arrayContaining(['fig3-weights-naive', 'fig3-weights-adversarial', 'transfer-adv_error', 'transfer-agreement', 'transfer-agreement_both_wrong', 'robustness']));
    for (const f of report.figures) {
      const svg = readFileSync(join(out, f.svg), 'utf8');
      expect(svg.trimStart().startsWith('<svg'), f.svg).toBe(true);
      const png = readFileSync(join(out, f.png));
      expect([...png.subarray(0, 8)], f.png).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.length).toBeGreaterThan(1000);
    }
  });

  it('mentions every claim in report.md', () => {
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    for (const id of expectedClaims()) expect(md, id).toContain(`| ${id} |`);
    for (const e of experiments) expect(md).toContain(`\`${e.id}\``);
    expect(md).toContain('## Figures');
    // One table of checks per experiment with a battery.
    expect(md.match(/\*\*Gradient-masking checks\*\*/g)).toHaveLength(5);
    expect(md).toContain('| model | seed | monotone-eps | iterative-beats-single | unbounded-reaches-100 | transfer-below-whitebox | black-box-below-white-box | more-steps-no-change | zero-gradients |');
  });

  it.skipIf(noBrowser)('report.html loads in headless Chromium with every claim row and figure', async () => {
    await withPage(join(out, 'report.html'), async (page, external) => {
      const figureIds = report.figures.map((f) => f.id);
      const state = (await page.evaluate(`(() => {
        const claims = ${JSON.stringify(expectedClaims())}.filter((id) => !document.getElementById('claim-' + id));
        const figures = ${JSON.stringify(figureIds)}.map((id) => {
          const f = document.getElementById('fig-' + id);
          const img = f && f.querySelector('img');
          const box = f && (img || f).getBoundingClientRect();
          return { id, present: !!f && f.tagName === 'FIGURE', natural: img ? img.naturalWidth : -1, w: box ? box.width : 0 };
        });
        const checkTables = ['fgsm-baseline', 'adversarial-training', 'strong-attacks', 'robustness-curve'].map((id) => {
          const heading = document.getElementById('checks-' + id);
          const table = heading && heading.nextElementSibling;
          return { id, rows: table ? table.querySelectorAll('tbody tr').length : -1, badges: table ? [...table.querySelectorAll('tbody .status')].map((b) => b.textContent) : [] };
        });
        return { missingClaims: claims, figures, checkTables };
      })()`)) as { missingClaims: string[]; figures: { id: string; present: boolean; natural: number; w: number }[]; checkTables: { id: string; rows: number; badges: string[] }[] };
      expect(state.missingClaims).toEqual([]);
      // The checks are on the page, a badge per model × check, as report.json has them.
      for (const t of state.checkTables) {
        const checks = report.checks.filter((c) => c.experiment === t.id);
        expect(t.rows, t.id).toBe(new Set(checks.map((c) => c.model)).size);
        expect(t.badges, t.id).toEqual(checks.map((c) => c.status));
      }
      for (const f of state.figures) {
        expect(f.present, f.id).toBe(true);
        expect(f.natural, f.id).toBeGreaterThan(0);
        expect(f.w, f.id).toBeGreaterThan(50);
      }
      expect(external).toEqual([]);
    });
  });
});
