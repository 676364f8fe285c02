// The experiment catalogue as data: every experiment plans into a consistent unit graph whose
// claims, matrices, curves and figures point at units that exist and metrics those units produce.
// Fast: nothing is trained; figure rendering is replaced by a recorder.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMOKE_NOTE } from '../src/catalogue/experiments/types.js';
import { EXPERIMENTS, PRESET_NAMES, type ClassifierRole, type ExperimentSpec, type ModelRole, type PresetName } from '../src/catalogue/experiments/index.js';
import { refName, type ModelRef } from '../src/catalogue/experiments/types.js';
import { craftRole, curveRole, matrixRole, planExperiment, sourceRole, type Plan } from '../src/catalogue/plan.js';
import { OBJECTIVE_STEP_VERSIONS, unitKey } from '../src/units/key.js';
import { MASKING_METRICS } from '../src/compute/handlers/masking.js';
import { firstOrderMetric } from '@advx/metrics';
import { restrictToClaims } from '../src/catalogue/restrict-claims.js';
import { buildReport } from '../src/report/build.js';
import { metricStatus } from '../src/report/verdict.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { writeFiguresAndHtml } from '../src/report/html.js';
import type { UnitStatus } from '../src/schedule/status.js';
import { isMpDbmTrain, type ClassifierTrainUnitConfig, type EvaluateUnitConfig, type Unit } from '../src/units/types.js';

// Figures are drawn by the real builders in report-figures.ts; only the SVG/PNG/HTML writing is stubbed.
const drawn = vi.hoisted(() => [] as { id: string; kind: string }[]);
vi.mock('../src/figures/index.js', () => ({
  renderFigure: async (figure: { id: string; kind: string; title: string; caption: string }, directory: string) => {
    drawn.push({ id: figure.id, kind: figure.kind });
    return { id: figure.id, title: figure.title, caption: figure.caption, svgPath: join(directory, `${figure.id}.svg`), pngPath: join(directory, `${figure.id}.png`) };
  },
  renderHtmlReport: async () => {},
}));

const experiments = Object.values(EXPERIMENTS);
const scratch = mkdtempSync(join(tmpdir(), 'advx-experiments-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const SEEDS = [1, 2];
const plans = new Map(experiments.map((e) => [e.id, planExperiment(e, 'smoke', SEEDS, 'sum')]));
const planOf = (id: string) => plans.get(id)!;
const unitsByKey = (plan: Plan) => new Map(plan.units.map((u) => [u.key, u]));
const key = (plan: Plan, ref: ModelRef | string, seed: number) => {
  const role = refName(ref);
  const k = plan.roles.get(role)?.get(seed);
  if (!k) throw new Error(`${plan.experiment.id}: no unit for role ${role}, seed ${seed}`);
  return k;
};
const unitAt = (plan: Plan, role: string, seed: number): Unit => unitsByKey(plan).get(key(plan, role, seed))!;

/** The metrics each unit kind's handler (src/handlers) reports; claims must name one of them. */
function metricsOf(unit: Unit): string[] {
  const c = unit.config;
  switch (c.kind) {
    case 'train':
      return ['epochs', 'final_loss', 'examples_per_second', 'train_count', ...(c.earlyStopping ? ['best_epoch', 'best_validation_error'] : []), ...(!isMpDbmTrain(c) && c.continuation ? ['stage2_epochs', 'stage2_matched'] : [])];
    case 'craft':
      return ['count', 'source_adv_error', 'source_adv_confidence'];
    case 'evaluate':
      return [
        'clean_error', 'clean_confidence', 'count',
        ...(c.attack ? ['adv_error', 'adv_confidence', 'adv_confidence_on_errors', 'source_adv_error', 'agreement', 'agreement_both_wrong'] : []),
        ...(c.attack && c.reference ? ['reference_adv_error', 'reference_agreement', 'reference_agreement_both_wrong'] : []),
      ];
    case 'rubbish':
      return ['false_positive_rate', 'confidence_on_false_positives', 'fraction_class_5', 'fraction_class_8', 'count'];
    case 'linearity':
      return ['piecewise_r2_mean', 'piecewise_r2_min', 'linear_r2_mean'];
    case 'first-order':
      return ['count', 'nonfinite_count', 'median_margin', 'median_gradient_l1', 'median_eps_star', ...c.epsilons.flatMap((eps) => (['runner_up_linear_error', 'runner_up_step_error', 'median_drop_ratio'] as const).map((m) => firstOrderMetric(m, eps)))];
    case 'fooling':
      return ['success_mean', 'success_min', 'per_step_success_mean', 'per_step_success_min', ...Array.from({ length: 10 }, (_, i) => `success_class_${i}`)];
    case 'examples':
      return ['count'];
    case 'masking':
      return [...MASKING_METRICS];
  }
}

// P3 and P16 are CIFAR-10 results: every other claim of the paper is reproduced on MNIST (P13, the MP-DBM, is an MNIST claim).
const CIFAR_CLAIMS = ['P3', 'P16'];
const EXPECTED_CLAIMS = Array.from({ length: 19 }, (_, i) => `P${i + 1}`).filter((id) => !CIFAR_CLAIMS.includes(id));

describe.each(experiments.map((e) => [e.id, e] as const))('experiment %s', (_id, experiment) => {
  const plan = planOf(experiment.id);

  it('plans units whose dependencies are in the plan, for every seed', () => {
    expect(plan.units.length).toBeGreaterThan(0);
    expect(plan.seeds).toEqual(SEEDS);
    const keys = new Set(plan.units.map((u) => u.key));
    for (const unit of plan.units) {
      for (const dependency of unit.dependsOn) expect(keys.has(dependency), `${unit.role} depends on ${dependency}`).toBe(true);
      const config = unit.config;
      // Every model a unit reads is a dependency: otherwise the scheduler could start it before the model exists.
      const reads =
        config.kind === 'train'
          ? !isMpDbmTrain(config) && config.epochsFrom
            ? [config.epochsFrom as string]
            : []
          : config.kind === 'evaluate'
            ? config.craftUnit
              ? [config.craftUnit, ...config.target, ...(config.reference ?? [])]
              : [...config.source, ...config.target, ...(config.reference ?? [])]
            : config.kind === 'craft'
              ? config.source
              : config.model;
      expect(new Set(unit.dependsOn), unit.role).toEqual(new Set(reads));
      for (const read of reads) expect(unitsByKey(plan).get(read)?.config.kind, `${unit.role} reads ${read}`).toBe(config.kind === 'evaluate' && read === config.craftUnit ? 'craft' : 'train');
    }
    for (const [role, bySeed] of plan.roles) expect([...bySeed.keys()].sort(), role).toEqual(SEEDS);
    // Every declared model, evaluation and analysis has a unit.
    for (const role of [...Object.keys(experiment.evaluations), ...Object.keys(experiment.analyses ?? {})]) expect(plan.roles.has(role), role).toBe(true);
    for (const [role, model] of Object.entries(experiment.models)) {
      const roles = model.members ? Array.from({ length: model.members }, (_, i) => `${role}#${i}`) : [role];
      for (const r of roles) expect(plan.roles.has(r), r).toBe(true);
    }
  });

  it("reads every claim's metric from a unit role that exists for each seed and reports that metric", () => {
    for (const claim of experiment.claims) {
      for (const [name, metric] of Object.entries(claim.metrics)) {
        for (const seed of plan.seeds) {
          const unit = unitAt(plan, sourceRole(metric.from), seed);
          expect(metricsOf(unit), `${claim.id}.${name} reads ${sourceRole(metric.from)}.${metric.from.metric}`).toContain(metric.from.metric);
        }
        if (metric.paper !== null) expect(metric.tolerance !== undefined || metric.bound !== undefined, `${claim.id}.${name} has a paper value but no tolerance or bound`).toBe(true);
        if (metric.paper !== null) expect(metric.paper).toBeGreaterThanOrEqual(0), expect(metric.paper).toBeLessThanOrEqual(1);
      }
    }
  });

  it('has a figure builder for every figure it lists, fed by its own units', async () => {
    // Every role gets artifacts shaped as its handler writes them; a listed id without a builder, or
    // a builder reading a role the experiment lacks, draws nothing.
    const seed = plan.seeds[0];
    const statuses = new Map<string, UnitStatus>();
    for (const unit of plan.units) {
      const result = { key: unit.key, role: unit.role, seed: unit.seed, config: unit.config, metrics: { clean_error: 0.1, adv_error: 0.5, agreement: 0.3, agreement_both_wrong: 0.4 }, artifacts: fakeArtifacts(unit), backend: 'fake', computeSeconds: 0, finishedAt: '', attempts: 1 };
      statuses.set(unit.key, { unit, state: 'done', result, resultPath: null, attempts: 1, error: null });
    }
    const report = buildReport(experiment.id, [plan], [], statuses, 1, false, 'smoke', [seed], 'mnist');
    drawn.length = 0;
    const rendered = await writeFiguresAndHtml(join(scratch, experiment.id), report, [plan], statuses, 'test');
    const ids = rendered.map((f) => f.id);
    expect(drawn.map((f) => f.id)).toEqual(ids);
    for (const figure of experiment.figures ?? []) expect(ids.some((id) => id === figure || id.startsWith(`${figure}-`)), `figure ${figure} of ${experiment.id} drew nothing (drew ${ids.join(', ')})`).toBe(true);
    for (const matrix of experiment.matrices ?? []) for (const metric of matrix.metrics) expect(ids).toContain(`${matrix.id}-${metric}`);
    for (const curve of experiment.curves ?? []) expect(ids).toContain(curve.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

/** Artifacts of the shape each analysis handler writes (work.ts), small and constant. */
function fakeArtifacts(unit: Unit): object | undefined {
  const image = () => Array.from({ length: 784 }, (_, i) => (i % 7) / 7);
  switch (unit.config.kind) {
    case 'examples': {
      const n = unit.config.count;
      return {
        shape: [28, 28, 1], eps: unit.config.attack.eps, classNames: Array.from({ length: 10 }, (_, i) => String(i)), labels: Array.from({ length: n }, (_, i) => i % 2),
        clean: Array.from({ length: n }, image), gradientSign: Array.from({ length: n }, image), adversarial: Array.from({ length: n }, image),
        cleanPrediction: Array(n).fill(0), cleanConfidence: Array(n).fill(0.9), adversarialPrediction: Array(n).fill(1), adversarialConfidence: Array(n).fill(0.8),
        weights: unit.config.weights ? { images: Array.from({ length: 10 }, image), pieces: 5 } : undefined,
      };
    }
    case 'linearity':
      return { epsilons: [-1, 0, 1], logits: [Array(10).fill(0), Array(10).fill(1), Array(10).fill(2)], label: 4 };
    case 'fooling':
      return { shape: [28, 28, 1], examples: Array.from({ length: 10 }, image), successByClass: Array(10).fill(0.5) };
    case 'rubbish':
      return { classHistogram: [1, 0, 2, 3, 0, 9, 0, 0, 0, 1] };
    case 'masking':
      return { epsilons: unit.config.epsilons, fgsmCurve: unit.config.epsilons.map(() => 0.5), pgdCurve: unit.config.epsilons.map(() => 0.6) };
    default:
      return undefined;
  }
}

describe('the catalogue', () => {
  it('has unique claim ids; the MNIST experiments make exactly P1–P19 minus the CIFAR-10 P3, P16, and studies beyond the paper name the claim they explain', () => {
    const ids = experiments.flatMap((e) => e.claims.map((c) => c.id));
    expect(new Set(ids).size).toBe(ids.length);
    const paperClaim = /^P\d+$/;
    for (const id of ids.filter((i) => !paperClaim.test(i))) expect(id, 'a claim beyond the paper is "<paper claim>-<what>"').toMatch(/^P\d+-[a-z]+$/);
    const mnist = experiments.filter((e) => e.dataset !== 'cifar10').flatMap((e) => e.claims.map((c) => c.id)).filter((id) => paperClaim.test(id));
    expect([...mnist].sort()).toEqual([...EXPECTED_CLAIMS].sort());
    // Claims needing CIFAR-10 live only in CIFAR-10 experiments (which a sweep skips when the data is absent).
    const cifar = experiments.filter((e) => e.dataset === 'cifar10').flatMap((e) => e.claims.map((c) => c.id));
    for (const id of cifar) expect(id).toMatch(/^P([1-9]|1[0-9])\b/);
    for (const id of CIFAR_CLAIMS) expect(mnist).not.toContain(id);
    expect(new Set(experiments.map((e) => e.id)).size).toBe(experiments.length);
    expect(Object.keys(EXPERIMENTS)).toEqual(experiments.map((e) => e.id));
  });

  it('plans every experiment on every preset', () => {
    for (const preset of PRESET_NAMES) for (const e of experiments) expect(() => planExperiment(e, preset, [1, 2, 3], 'sum'), `${e.id} on ${preset}`).not.toThrow();
  });

  it.each(PRESET_NAMES)('gives identical model configs one train key across experiments (%s): --experiment all trains the shared maxout once', (preset) => {
    const all = experiments.map((e) => planExperiment(e, preset, [1, 2], 'sum'));
    const trainKey = (experiment: string, role: string, seed: number) => key(all.find((p) => p.experiment.id === experiment)!, role, seed);
    const shared: Record<string, string[]> = {
      maxout: ['fgsm-baseline', 'l1-weight-decay', 'adversarial-training', 'rbf-transfer', 'linearity', 'rubbish', 'fooling', 'robustness-curve'],
      softmax: ['fgsm-baseline', 'rbf-transfer', 'rubbish', 'robustness-curve'],
      rbf: ['rbf-transfer', 'rubbish', 'robustness-curve'],
      'maxout-adv': ['adversarial-training', 'robustness-curve'],
    };
    for (const seed of [1, 2]) {
      for (const [role, ids] of Object.entries(shared)) {
        const keys = new Set(ids.map((id) => trainKey(id, role, seed)));
        expect(keys.size, `${role}, seed ${seed}: ${ids.join(', ')}`).toBe(1);
      }
      // Different models stay different.
      const distinct = ['maxout', 'softmax', 'rbf', 'maxout-adv'].map((role) => trainKey(shared[role][shared[role].length - 1], role, seed));
      expect(new Set(distinct).size).toBe(4);
      expect(trainKey('rubbish', 'maxout-sigmoid', seed)).not.toBe(trainKey('rubbish', 'maxout', seed));
      expect(trainKey('rubbish', 'maxout-none-class', seed)).not.toBe(trainKey('rubbish', 'maxout', seed));
    }
    expect(trainKey('fgsm-baseline', 'maxout', 1)).not.toBe(trainKey('fgsm-baseline', 'maxout', 2));

    // Generically: two units with equal configs (whatever their experiment or role) have one key,
    // and one key never stands for two different configs — apart from an evaluation's `craftUnit`,
    // which says where its examples come from, not what it computes.
    const byConfig = new Map<string, Set<string>>();
    const byKey = new Map<string, Set<string>>();
    for (const unit of all.flatMap((p) => p.units)) {
      const config = JSON.stringify(canonical({ ...unit.config, craftUnit: undefined }));
      byConfig.set(config, (byConfig.get(config) ?? new Set()).add(unit.key));
      byKey.set(unit.key, (byKey.get(unit.key) ?? new Set()).add(config));
    }
    for (const keys of byConfig.values()) expect(keys.size).toBe(1);
    for (const configs of byKey.values()) expect(configs.size).toBe(1);
  });

  it('leaves the test subset out of train keys, but not out of evaluation keys', () => {
    // robustness-curve evaluates cpu curves on 1,000 test examples; its models are still the shared ones.
    const a = planExperiment(EXPERIMENTS['robustness-curve'], 'cpu', [1], 'sum');
    const b = planExperiment(EXPERIMENTS['fgsm-baseline'], 'cpu', [1], 'sum');
    expect(key(a, 'maxout', 1)).toBe(key(b, 'maxout', 1));
    expect(unitAt(a, curveRole('robustness', 'maxout', 'fgsm', 0.25), 1).config).toMatchObject({ dataset: { testCount: 1000 } });
    expect(unitAt(b, 'maxout-fgsm', 1).config).toMatchObject({ dataset: { testCount: null } });
    // A different dataset checksum changes every key.
    const c = planExperiment(EXPERIMENTS['fgsm-baseline'], 'cpu', [1], 'other');
    expect(key(c, 'maxout', 1)).not.toBe(key(b, 'maxout', 1));
  });
});

describe('ensemble (§9)', () => {
  const plan = planOf('ensemble');
  const role = plan.experiment.models.member;

  it('plans 12 members per seed with distinct seeds, attacked together and through member 0', () => {
    expect(role.members).toBe(12);
    const allSeeds: number[] = [];
    for (const seed of plan.seeds) {
      const members = Array.from({ length: 12 }, (_, i) => unitAt(plan, `member#${i}`, seed));
      const configs = members.map((u) => u.config as ClassifierTrainUnitConfig);
      expect(new Set(members.map((u) => u.key)).size).toBe(12);
      expect(configs.map((c) => c.seed)).toEqual(Array.from({ length: 12 }, (_, i) => seed + 1000 * i));
      allSeeds.push(...configs.map((c) => c.seed));
      // Members differ only in their seed.
      for (const c of configs) expect({ ...c, seed: 0 }).toEqual({ ...configs[0], seed: 0 });
      const memberKeys = members.map((u) => u.key);
      const whole = unitAt(plan, 'ensemble-fgsm', seed).config as EvaluateUnitConfig;
      expect(whole.source).toEqual(memberKeys);
      expect(whole.target).toEqual(memberKeys);
      const one = unitAt(plan, 'member-to-ensemble-fgsm', seed).config as EvaluateUnitConfig;
      expect(one.source).toEqual([memberKeys[0]]);
      expect(one.target).toEqual(memberKeys);
      expect(one.attack).toEqual({ kind: 'fgsm', eps: 0.25, clip: false });
    }
    expect(new Set(allSeeds).size).toBe(allSeeds.length);
    expect(plan.roles.has('member')).toBe(false);
  });

  it('caps its seeds with maxSeeds where the preset asks (cpu: 1), and only there', () => {
    const cpu = planExperiment(EXPERIMENTS.ensemble, 'cpu', [3, 4, 5], 'sum');
    expect(cpu.seeds).toEqual([3]);
    expect(new Set(cpu.units.map((u) => u.seed))).toEqual(new Set([3]));
    expect(cpu.units.filter((u) => u.config.kind === 'train')).toHaveLength(12);
    for (const bySeed of cpu.roles.values()) expect([...bySeed.keys()]).toEqual([3]);
    const smoke = planExperiment(EXPERIMENTS.ensemble, 'smoke', [3, 4, 5], 'sum');
    expect(smoke.seeds).toEqual([3, 4, 5]);
    expect(smoke.units.filter((u) => u.config.kind === 'train')).toHaveLength(36);
    // A cap larger than the seeds given keeps them all.
    const capped: ExperimentSpec = { ...EXPERIMENTS['fgsm-baseline'], maxSeeds: { smoke: 5 } };
    expect(planExperiment(capped, 'smoke', [1, 2], 'sum').seeds).toEqual([1, 2]);
  });
});

describe('early stopping and retraining (§6)', () => {
  it.each(PRESET_NAMES)('retrains from the early-stopping unit of the same seed on train + validation (%s)', (preset: PresetName) => {
    const plan = planExperiment(EXPERIMENTS['early-stopping-1600'], preset, [1, 2], 'sum');
    for (const seed of plan.seeds) {
      const select = unitAt(plan, 'wide-adv-select', seed);
      const retrained = unitAt(plan, 'wide-adv-retrained', seed);
      const s = select.config as ClassifierTrainUnitConfig;
      const r = retrained.config as ClassifierTrainUnitConfig;
      expect(s.earlyStopping).toEqual(EXPERIMENTS['early-stopping-1600'].models['wide-adv-select'].earlyStopping![preset]);
      expect(s.earlyStopping!.adversarialEps).toBe(0.25);
      expect(s.includeValidation).toBe(false);
      expect(s.epochsFrom).toBeNull();
      expect(retrained.dependsOn).toEqual([select.key]);
      expect(r.epochsFrom).toBe(select.key);
      expect(r.includeValidation).toBe(true);
      expect(r.earlyStopping).toBeNull();
      // Same architecture and objective; only the data and the epoch count differ.
      expect(r.model).toEqual(s.model);
      expect(r.training.objective).toEqual(s.training.objective);
      const clean = unitAt(plan, 'wide-clean', seed).config as ClassifierTrainUnitConfig;
      expect(clean.training.objective).toEqual({ kind: 'clean' });
      expect(unitAt(plan, 'selected-test', seed).config).toMatchObject({ source: [retrained.key], attack: null });
    }
    expect(unitAt(plan, 'wide-adv-retrained', 1).dependsOn).not.toEqual(unitAt(plan, 'wide-adv-retrained', 2).dependsOn);
  });

  it('refuses a model that retrains from an unknown model', () => {
    const models: Record<string, ModelRole> = { ...EXPERIMENTS['early-stopping-1600'].models, orphan: { ...(EXPERIMENTS['early-stopping-1600'].models['wide-adv-retrained'] as ClassifierRole), retrainFrom: 'nope' } };
    expect(() => planExperiment({ ...EXPERIMENTS['early-stopping-1600'], models }, 'smoke', [1], 'sum')).toThrow(/retrains from unknown model "nope"/);
  });
});

describe('matrices and curves', () => {
  it('plans a transfer cell for every (source, target) pair, reading the right models', () => {
    const plan = planOf('rbf-transfer');
    const [matrix] = plan.experiment.matrices!;
    expect(matrix.models).toEqual(['maxout', 'softmax', 'rbf']);
    for (const seed of plan.seeds) {
      const cells = new Set<string>();
      for (const source of matrix.models)
        for (const target of matrix.models) {
          const unit = unitAt(plan, matrixRole(matrix.id, source, target), seed);
          const config = unit.config as EvaluateUnitConfig;
          expect(config.source).toEqual([key(plan, source, seed)]);
          expect(config.target).toEqual([key(plan, target, seed)]);
          expect(config.attack).toEqual(matrix.attack);
          expect(config.split).toBe('test');
          cells.add(unit.key);
        }
      expect(cells.size).toBe(9);
    }
    const matrixRoles = [...plan.roles.keys()].filter((r) => r.startsWith('matrix:transfer:'));
    expect(matrixRoles).toHaveLength(9);
    // …and its clipped twin, the same cells with the attack clipped to [0, 1] (clipping.ts).
    expect(plan.experiment.matrices!.map((m) => [m.id, m.attack.clip])).toEqual([['transfer', false], ['transfer-clipped', true]]);
    expect([...plan.roles.keys()].filter((r) => r.startsWith('matrix:transfer-clipped:'))).toHaveLength(9);
    // The diagonal of the transfer matrix is the plain white-box evaluation (same config as rbf-fgsm).
    expect(key(plan, matrixRole('transfer', 'rbf', 'rbf'), 1)).toBe(key(plan, 'rbf-fgsm', 1));
  });

  it('crafts each row of a transfer matrix once: every cell of the row reads the same craft unit on its source', () => {
    const plan = planOf('rbf-transfer');
    const [matrix] = plan.experiment.matrices!;
    for (const seed of plan.seeds) {
      for (const source of matrix.models) {
        const crafts = new Set(matrix.models.map((target) => (unitAt(plan, matrixRole(matrix.id, source, target), seed).config as EvaluateUnitConfig).craftUnit));
        expect(crafts.size, `row ${source}`).toBe(1);
        const craftKey = [...crafts][0]!;
        const craft = unitsByKey(plan).get(craftKey)!;
        expect(craft.config).toMatchObject({ kind: 'craft', source: [key(plan, source, seed)], attack: matrix.attack, split: 'test', seed });
        expect(craft.role).toBe(craftRole(source, matrix.attack, 'test'));
        for (const target of matrix.models) expect(unitAt(plan, matrixRole(matrix.id, source, target), seed).dependsOn).toContain(craftKey);
      }
    }
    // One craft per row, for the matrix and for its clipped twin.
    expect(plan.units.filter((u) => u.config.kind === 'craft')).toHaveLength(2 * 3 * plan.seeds.length);
  });

  it('keys an evaluation by what it computes, not by whether it reads a craft unit: shared and own crafting are one unit', () => {
    const shared = unitAt(planOf('adversarial-training'), 'maxout-fgsm', 1);
    expect((shared.config as EvaluateUnitConfig).craftUnit).toBeDefined(); // shared with maxout→adv there
    const own = unitAt(planOf('fgsm-baseline'), 'maxout-fgsm', 1);
    expect((own.config as EvaluateUnitConfig).craftUnit).toBeUndefined();
    expect(shared.key).toBe(own.key);
    expect(unitKey({ ...(own.config as EvaluateUnitConfig), attack: { kind: 'fgsm', eps: 0.1, clip: true } })).not.toBe(own.key);
  });

  it('lets an attack no other evaluation shares craft its own examples', () => {
    const plan = planOf('fgsm-baseline');
    expect(plan.units.some((u) => u.config.kind === 'craft')).toBe(false);
    const config = unitAt(plan, 'maxout-fgsm', 1).config as EvaluateUnitConfig;
    expect('craftUnit' in config).toBe(false);
    // Each curve point is its own (model, attack, ε): nothing to share, nothing to store. Only the
    // battery's transfer rows from maxout (judged by softmax and by rbf) are crafted once and shared.
    expect(planOf('robustness-curve').units.filter((u) => u.config.kind === 'craft').map((u) => u.role)).toEqual(['craft:maxout:fgsm@0.25:first 100', 'craft:maxout:pgd@0.25×5:first 100', 'craft:maxout:fgsm@0.25:first 100', 'craft:maxout:pgd@0.25×5:first 100']);
  });

  it('plans a curve point for every (model, attack, ε), iterative attacks with steps of 2.5ε/steps', () => {
    const plan = planOf('robustness-curve');
    const [curve] = plan.experiment.curves!;
    let points = 0;
    for (const model of curve.models)
      for (const attack of curve.attacks)
        for (const eps of curve.epsilons) {
          const config = unitAt(plan, curveRole(curve.id, model, attack, eps), 1).config as EvaluateUnitConfig;
          points++;
          expect(config.source).toEqual([key(plan, model, 1)]);
          if (attack === 'fgsm') expect(config.attack).toEqual({ kind: 'fgsm', eps, clip: true });
          if (attack === 'bim' || attack === 'pgd') expect(config.attack).toEqual({ kind: attack, eps, steps: curve.steps, stepSize: (2.5 * eps) / curve.steps, clip: true });
          expect(config.attack?.kind).toBe(attack);
        }
    // Every attack of the project and their worst case, on the five models (softmax, maxout, maxout-adv, RBF, MP-DBM).
    expect(points).toBe(5 * 9 * 6);
    expect([...plan.roles.keys()].filter((r) => r.startsWith('curve:'))).toHaveLength(points);
  });
});

describe('models of the individual experiments', () => {
  it('logistic regression sees only the 3s and 7s; the none-class model has 11 outputs and rubbish examples', () => {
    const logistic = unitAt(planOf('logistic-3v7'), 'logistic', 1).config as ClassifierTrainUnitConfig;
    expect(logistic.dataset.classes).toEqual([3, 7]);
    expect(logistic.model.outputs).toBe(1);
    const none = unitAt(planOf('rubbish'), 'maxout-none-class', 1).config as ClassifierTrainUnitConfig;
    expect(none.model.outputs).toBe(11);
    expect(none.rubbishClass).toBe(500);
    expect((unitAt(planOf('rubbish'), 'maxout', 1).config as ClassifierTrainUnitConfig).rubbishClass).toBeNull();
    const fgsmOnRubbish = unitAt(planOf('rubbish'), 'rubbish-none-class-fgsm', 1);
    expect(fgsmOnRubbish.config).toMatchObject({ kind: 'rubbish', attack: { kind: 'fgsm', eps: 0.25, clip: false }, model: [key(planOf('rubbish'), 'maxout-none-class', 1)] });
  });

  it('trains the adversarial net on J̃ = .5 J(x) + .5 J(x + .25 sign ∇ₓJ), the controls on noise of the same size', () => {
    const plan = planOf('adversarial-training');
    expect((unitAt(plan, 'maxout-adv', 1).config as ClassifierTrainUnitConfig).training.objective).toEqual({ kind: 'adversarial', alpha: 0.5, eps: 0.25, clip: false });
    expect((unitAt(plan, 'maxout-sign-noise', 1).config as ClassifierTrainUnitConfig).training.objective).toEqual({ kind: 'noise', distribution: 'sign', eps: 0.25, clip: false });
    expect((unitAt(plan, 'maxout-uniform-noise', 1).config as ClassifierTrainUnitConfig).training.objective).toEqual({ kind: 'noise', distribution: 'uniform', eps: 0.25, clip: false });
    const transfer = unitAt(plan, 'maxout→adv', 1).config as EvaluateUnitConfig;
    expect(transfer.source).toEqual([key(plan, 'maxout', 1)]);
    expect(transfer.target).toEqual([key(plan, 'maxout-adv', 1)]);
  });
});

/** A config with object keys sorted, for comparing configs by value. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]));
  return value;
}

describe('claim status in the report', () => {
  /** Statuses with one metric value for every unit of a plan. */
  function statusesWith(plan: Plan, metrics: Record<string, number>): Map<string, UnitStatus> {
    return new Map(
      plan.units.map((unit) => [unit.key, { unit, state: 'done', result: { key: unit.key, role: unit.role, seed: unit.seed, config: unit.config, metrics, backend: 'fake', computeSeconds: 0, finishedAt: '', attempts: 1 }, resultPath: null, attempts: 1, error: null }]),
    );
  }

  it('calls a claim with only ours-only metrics "ours only" when it has data, "no data" when it has none', () => {
    const plan = planExperiment(EXPERIMENTS.linearity, 'smoke', [1], 'sum');
    const withData = buildReport('linearity', [plan], [], statusesWith(plan, { piecewise_r2_mean: 0.99, piecewise_r2_min: 0.98, linear_r2_mean: 0.6 }), 1, false, 'smoke', [1], 'mnist');
    expect(withData.claims[0]).toMatchObject({ id: 'P19', status: 'ours only' });
    expect(withData.claims[0].metrics.piecewise_linear_r2).toMatchObject({ n: 1, mean: 0.99, status: 'ours only' });
    const without = buildReport('linearity', [plan], [], statusesWith(plan, {}), 1, false, 'smoke', [1], 'mnist');
    expect(without.claims[0]).toMatchObject({ id: 'P19', status: 'no data' });
  });

  it('compares paper metrics: reproduced within tolerance, differs outside it, bounds on their side', () => {
    const plan = planExperiment(EXPERIMENTS['fgsm-baseline'], 'smoke', [1, 2], 'sum');
    const near = buildReport('x', [plan], [], statusesWith(plan, { clean_error: 0.0094, adv_error: 0.9, adv_confidence: 0.97, adv_confidence_on_errors: 0.97 }), 1, false, 'smoke', [1, 2], 'mnist');
    expect(near.claims.find((c) => c.id === 'P2')!.status).toBe('reproduced');
    expect(near.claims.find((c) => c.id === 'P2')!.metrics.adv_error).toMatchObject({ n: 2, values: [0.9, 0.9] });
    expect(near.claims.find((c) => c.id === 'P1')!.status).toBe('differs: adv_error, adv_confidence_on_errors');
    // Alternatives (clipped FGSM, all-examples confidence) are reported but never decide a status.
    const p2 = near.claims.find((c) => c.id === 'P2')!;
    expect(p2.metrics.adv_error_clipped).toMatchObject({ alternative: 'FGSM clipped to [0, 1]', n: 2 });
    const farOnlyInAlternatives = buildReport('x', [plan], [], statusesWith(plan, { clean_error: 0.0094, adv_error: 0.9, adv_confidence: 0.5, adv_confidence_on_errors: 0.97 }), 1, false, 'smoke', [1, 2], 'mnist');
    expect(farOnlyInAlternatives.claims.find((c) => c.id === 'P2')!.metrics.adv_confidence.status).toMatch(/^off by/);
    expect(farOnlyInAlternatives.claims.find((c) => c.id === 'P2')!.status).toBe('reproduced');
    const l1 = planExperiment(EXPERIMENTS['l1-weight-decay'], 'smoke', [1], 'sum');
    expect(buildReport('x', [l1], [], statusesWith(l1, { clean_error: 0.04 }), 1, false, 'smoke', [1], 'mnist').claims[0].status).toBe('differs: train_error_l1_0025');
    expect(buildReport('x', [l1], [], statusesWith(l1, { clean_error: 0.06 }), 1, false, 'smoke', [1], 'mnist').claims[0].status).toBe('reproduced');
  });

  it('shows plain-number metrics (margins, norms, ε*) as numbers and rates as percents, in the markdown and the statuses', () => {
    const plan = planExperiment(EXPERIMENTS['mp-dbm-ablation'], 'smoke', [1], 'sum');
    const report = buildReport('x', [plan], [], statusesWith(plan, { clean_error: 0.0353, adv_error: 0.7834, median_margin: 5.927, median_eps_star: 0.1638 }), 1, false, 'smoke', [1], 'mnist');
    const metrics = report.claims.find((c) => c.id === 'P13-ablation')!.metrics;
    expect(metrics['mp-dbm_margin']).toMatchObject({ unit: 'number', mean: 5.927 });
    expect(metrics['mp-dbm_adv_error']).toMatchObject({ unit: 'fraction' });
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('| P13-ablation | mp-dbm_margin | – | 5.927 ± 0 |');
    expect(markdown).toContain('| P13-ablation | mp-dbm_eps_star | – | 0.1638 ± 0 |');
    expect(markdown).toContain('| P13-ablation | mp-dbm_adv_error | – | 78.34% ± 0.00% |');
    expect(metricStatus({ kind: 'off', by: 0.5, tolerance: 0.1 }, 'number')).toBe('off by +0.5 (tolerance ±0.1)');
    expect(metricStatus({ kind: 'off', by: 0.005, tolerance: 0.001 })).toBe('off by +0.50 pp (tolerance ±0.10 pp)');
  });

  it('warns in a smoke report that its statuses say nothing about the paper, and only there', () => {
    const report = (preset: PresetName) => {
      const plan = planExperiment(EXPERIMENTS['fgsm-baseline'], preset, [1], 'sum');
      return renderMarkdown(buildReport('x', [plan], [], statusesWith(plan, { clean_error: 0.0094, adv_error: 0.9, adv_confidence: 0.97 }), 1, false, preset, [1], 'mnist'));
    };
    expect(report('smoke')).toContain(SMOKE_NOTE);
    expect(report('cpu')).not.toContain(SMOKE_NOTE);
  });
});

describe('the gradient-masking battery', () => {
  it('plans a masking unit per battery model × seed, reading the model and its transfer sources, on the preset\'s first examples', () => {
    for (const preset of PRESET_NAMES) {
      const plan = planExperiment(EXPERIMENTS['adversarial-training'], preset, SEEDS, 'sum');
      const battery = plan.experiment.battery!;
      expect(plan.batteryRoles.map((b) => b.model)).toEqual(battery.models);
      for (const { model, role, transfers } of plan.batteryRoles)
        for (const seed of SEEDS) {
          const unit = unitAt(plan, role, seed);
          if (unit.config.kind !== 'masking') throw new Error(`${role} is a ${unit.config.kind} unit`);
          expect(unit.config.model).toEqual([key(plan, model, seed)]);
          expect(unit.dependsOn).toEqual([key(plan, model, seed)]);
          expect(unit.config).toMatchObject({ eps: 0.25, steps: battery.scale[preset].steps, queries: battery.scale[preset].queries, seed });
          expect(unit.config.dataset.testCount).toBe(battery.scale[preset].examples);
          // Each transfer source's FGSM and PGD examples, crafted as the probes craft them, judged by the model on the same examples.
          expect(transfers.map((t) => t.from)).toEqual(battery.transferFrom?.[model] ?? []);
          for (const t of transfers)
            for (const kind of ['fgsm', 'pgd'] as const) {
              const config = unitAt(plan, t[kind], seed).config as EvaluateUnitConfig;
              expect(config.source).toEqual([key(plan, t.from, seed)]);
              expect(config.target).toEqual([key(plan, model, seed)]);
              expect(config.attack).toEqual(kind === 'fgsm' ? { kind, eps: 0.25, clip: true } : { kind, eps: 0.25, steps: battery.scale[preset].steps, stepSize: (2.5 * 0.25) / battery.scale[preset].steps, clip: true });
              expect(config.dataset).toEqual(unit.config.dataset);
            }
        }
    }
  });

  it('shares one masking unit between experiments that check the same model the same way', () => {
    const a = planOf('strong-attacks');
    const b = planOf('robustness-curve');
    expect(key(a, 'masking:maxout-adv', 1)).toBe(key(b, 'masking:maxout-adv', 1));
  });

  it('under --claims keeps the battery on the models kept, with only the transfer sources kept anyway', () => {
    const p8 = restrictToClaims(EXPERIMENTS['adversarial-training'], new Set(['P8']))!;
    expect(p8.battery!.models).toEqual(['maxout-adv']);
    expect(p8.battery!.transferFrom).toEqual({ 'maxout-adv': [] });
    const p6 = restrictToClaims(EXPERIMENTS['adversarial-training'], new Set(['P6']))!;
    expect(p6.battery!.transferFrom).toEqual({ maxout: ['maxout-adv'], 'maxout-adv': ['maxout'] });
    // The masking unit's key is the model's alone; a restricted sweep's are the full plan's.
    const full = new Set(planOf('adversarial-training').units.map((u) => u.key));
    for (const unit of planExperiment(p8, 'smoke', SEEDS, 'sum').units) expect(full.has(unit.key), unit.role).toBe(true);
  });

  it('puts each check in the report, and qualifies a claim whose model fails one, not the others', () => {
    const plan = planExperiment(EXPERIMENTS['fgsm-baseline'], 'smoke', [1], 'sum');
    const normal = { count: 100, fgsm_error: 0.8, bim_error: 0.95, pgd_error: 0.96, apgd_error: 0.97, fgsm_only: 0, square_error: 0.5, pgd_more_error: 0.96, apgd_more_error: 0.97, unbounded_error: 1, zero_gradient: 0 };
    const statuses = new Map<string, UnitStatus>();
    for (const unit of plan.units) {
      const masking = unit.config.kind === 'masking';
      const metrics: Record<string, number> = masking ? { ...normal, ...(unit.role === 'masking:maxout' ? { unbounded_error: 0.5 } : {}) } : { clean_error: 0.01, adv_error: unit.role.startsWith('masking:') ? 0.3 : 0.9, adv_confidence: 0.9, adv_confidence_on_errors: 0.9 };
      const artifacts = masking ? { epsilons: [0.1, 0.25], fgsmCurve: [0.5, 0.8], pgdCurve: [0.6, 0.96] } : undefined;
      statuses.set(unit.key, { unit, state: 'done', result: { key: unit.key, role: unit.role, seed: 1, config: unit.config, metrics, artifacts, backend: 'fake', computeSeconds: 0, finishedAt: '', attempts: 1 }, resultPath: null, attempts: 1, error: null });
    }
    const report = buildReport('x', [plan], [], statuses, 1, false, 'smoke', [1], 'mnist');
    expect(report.checks).toHaveLength(2 * 7);
    // The transfer check reads the transfer evaluations (30% against white-box FGSM 80%): it passes, not n/a.
    expect(report.checks.filter((c) => c.id === 'transfer-below-whitebox').map((c) => c.status)).toEqual(['pass', 'pass']);
    const failing = report.checks.filter((c) => c.status === 'fail');
    expect(failing.map((c) => [c.model, c.id])).toEqual([['maxout', 'unbounded-reaches-100']]);
    expect(failing[0]).toMatchObject({ experiment: 'fgsm-baseline', seed: 1, value: 0.5, threshold: 0.99, run: key(plan, 'masking:maxout', 1) });
    expect(report.claims.find((c) => c.id === 'P2')!).toMatchObject({ qualifiedBy: [{ model: 'maxout', check: 'unbounded-reaches-100', seeds: [1] }], qualification: 'maxout fails unbounded-reaches-100 (seed 1)' });
    expect(report.claims.find((c) => c.id === 'P1')!).toMatchObject({ qualifiedBy: [], qualification: '' });
    const md = renderMarkdown(report);
    expect(md).toContain('**qualified:** maxout fails unbounded-reaches-100 (seed 1)');
    expect(md).toContain('| maxout | 1 | pass');
    expect(md).toContain('**fail** 50.0% vs 99.0%');
    expect(md).toContain('- maxout, seed 1, `unbounded-reaches-100`: PGD over the whole input box reaches 50.0% error');
  });
});

describe('claim sources', () => {
  it('are typed by what they read, and the planner refuses one that names nothing the experiment declares', () => {
    const base = EXPERIMENTS['fgsm-baseline'];
    const withSource = (from: ExperimentSpec['claims'][number]['metrics'][string]['from']): ExperimentSpec => ({
      ...base,
      claims: [{ id: 'X', description: 'x', metrics: { m: { paper: null, from } } }],
    });
    expect(() => planExperiment(withSource({ evaluation: 'maxout-fgsm', metric: 'adv_error' }), 'smoke', [1], 'sum')).not.toThrow();
    expect(() => planExperiment(withSource({ evaluation: 'maxout-fgsn', metric: 'adv_error' }), 'smoke', [1], 'sum')).toThrow(/claim X's m reads .*maxout-fgsn.*does not declare/);
    expect(() => planExperiment(withSource({ analysis: 'maxout-fgsm', metric: 'adv_error' }), 'smoke', [1], 'sum')).toThrow(/does not declare/);
    expect(() => planExperiment(withSource({ matrix: 'transfer', source: 'maxout', target: 'rbf', metric: 'agreement' }), 'smoke', [1], 'sum')).toThrow(/does not declare/);
    // A matrix cell resolves to the planner's own role for it, and its clipped twin to the twin matrix's.
    const rbf = EXPERIMENTS['rbf-transfer'];
    const p12 = rbf.claims.find((c) => c.id === 'P12')!.metrics;
    expect(sourceRole(p12.rbf_agrees_with_maxout.from)).toBe(matrixRole('transfer', 'maxout', 'rbf'));
    expect(p12.rbf_agrees_with_maxout_clipped.from).toEqual({ matrix: 'transfer-clipped', source: 'maxout', target: 'rbf', metric: 'agreement' });
  });
});

describe('the catastrophic-overfitting check', () => {
  it('is added for a model trained with the PGD monitor, judged on each stage apart, and fails on a collapse', () => {
    const plan = planExperiment(EXPERIMENTS['strong-attacks'], 'smoke', [1], 'sum');
    const history = (pgd: number[][]) => pgd.flatMap((stage, s) => stage.map((p, i) => ({ stage: s + 1, epoch: i + 1, trainLoss: 1, examplesPerSecond: 1, monitor: { cleanAccuracy: 0.9, pgdAccuracy: p } })));
    const reportWith = (pgd: number[][]) => {
      const statuses = new Map<string, UnitStatus>();
      for (const unit of plan.units) {
        const artifacts = unit.config.kind === 'masking' ? { epsilons: [0.25], fgsmCurve: [0.5], pgdCurve: [0.6] } : unit.config.kind === 'train' ? { history: history(pgd) } : undefined;
        statuses.set(unit.key, { unit, state: 'done', result: { key: unit.key, role: unit.role, seed: 1, config: unit.config, metrics: { count: 10 }, artifacts, backend: 'fake', computeSeconds: 0, finishedAt: '', attempts: 1 }, resultPath: null, attempts: 1, error: null });
      }
      return buildReport('x', [plan], [], statuses, 1, false, 'smoke', [1], 'mnist').checks.filter((c) => c.id === 'catastrophic-overfitting');
    };
    // Only maxout-adv is monitored; a rise, then stage 2 from lower (a restart, not a fall): pass.
    const steady = reportWith([[0.1, 0.3, 0.5], [0.35, 0.4]]);
    expect(steady.map((c) => [c.model, c.status])).toEqual([['maxout-adv', 'pass']]);
    expect(steady[0].run).toBe(plan.roles.get('maxout-adv')!.get(1));
    // PGD accuracy collapsing within stage 1 while training goes on.
    const collapse = reportWith([[0.1, 0.5, 0.02], [0.02, 0.02]]);
    expect(collapse[0]).toMatchObject({ status: 'fail' });
    expect(collapse[0].detail).toMatch(/^stage 1: /);
  });
});

describe('--claims: a sweep restricted to some claims', () => {
  const full = planOf('adversarial-training');
  const restricted = (ids: string[]) => planExperiment(restrictToClaims(EXPERIMENTS['adversarial-training'], new Set(ids))!, 'smoke', SEEDS, 'sum');
  const trainRoles = (plan: Plan) => new Set(plan.units.filter((u) => u.config.kind === 'train').map((u) => u.role));

  it('plans only the models and evaluations its claims read, with the full plan\'s keys', () => {
    const p8 = restricted(['P8']);
    expect(trainRoles(p8)).toEqual(new Set(['maxout-adv']));
    expect(p8.experiment.claims.map((c) => c.id)).toEqual(['P8']);
    expect(renderMarkdown(buildReport('x', [p8], [], new Map(), 1, false, 'smoke', SEEDS, 'mnist'))).toContain('Restricted by `--claims` to P8; not run: P6, P9, P10.');
    // The alternatives (clipped, predicted labels) are claim metrics too, so their evaluations come along.
    expect(new Set(Object.keys(p8.experiment.evaluations))).toEqual(new Set(['adv-fgsm', 'adv-fgsm:clipped', 'adv-fgsm:predicted-labels', 'adv-fgsm:predicted-labels:clipped']));
    const fullKeys = new Set(full.units.map((u) => u.key));
    for (const unit of p8.units) expect(fullKeys.has(unit.key), unit.role).toBe(true);
    expect(trainRoles(restricted(['P6', 'P9']))).toEqual(new Set(['maxout', 'maxout-adv']));
    expect(trainRoles(restricted(['P10']))).toEqual(new Set(['maxout-sign-noise', 'maxout-uniform-noise']));
  });

  it('keeps a matrix a claim reads, and the models it retrains from', () => {
    const rbf = restrictToClaims(EXPERIMENTS['rbf-transfer'], new Set(['P12']))!;
    expect(rbf.matrices?.length ?? 0).toBeGreaterThan(0);
    for (const e of Object.values(EXPERIMENTS)) {
      for (const claim of e.claims) {
        const spec = restrictToClaims(e, new Set([claim.id]))!;
        for (const model of Object.values(spec.models)) if (model.retrainFrom) expect(spec.models[model.retrainFrom], `${e.id} ${claim.id}`).toBeDefined();
        expect(() => planExperiment(spec, 'smoke', [1], 'sum'), `${e.id} ${claim.id}`).not.toThrow();
      }
    }
    expect(restrictToClaims(EXPERIMENTS['fgsm-baseline'], new Set(['P6']))).toBeNull();
  });
});

describe('objective step versions', () => {
  it('change the keys of that objective\'s training units only', () => {
    const plan = planOf('adversarial-training');
    const config = (role: string) => unitAt(plan, role, 1).config;
    const before = ['maxout', 'maxout-adv', 'maxout-sign-noise'].map((role) => unitKey(config(role)));
    const saved = OBJECTIVE_STEP_VERSIONS.adversarial;
    OBJECTIVE_STEP_VERSIONS.adversarial = (saved ?? 1) + 1;
    try {
      const after = ['maxout', 'maxout-adv', 'maxout-sign-noise'].map((role) => unitKey(config(role)));
      expect([after[0] === before[0], after[1] === before[1], after[2] === before[2]]).toEqual([true, false, true]);
    } finally {
      OBJECTIVE_STEP_VERSIONS.adversarial = saved;
    }
  });
});

describe('the MP-DBM (P13)', () => {
  it('is one train unit per seed and preset, shared by mp-dbm, rubbish and robustness-curve, trained by multi-prediction with early stopping', () => {
    for (const preset of PRESET_NAMES) {
      const keys = ['mp-dbm', 'rubbish', 'robustness-curve'].map((id) => planExperiment(EXPERIMENTS[id], preset, [1], 'sum').roles.get('mp-dbm')!.get(1));
      expect(new Set(keys).size, preset).toBe(1);
      const unit = unitAt(planExperiment(EXPERIMENTS['mp-dbm'], preset, [1], 'sum'), 'mp-dbm', 1);
      expect(unit.config.kind === 'train' && isMpDbmTrain(unit.config), preset).toBe(true);
      if (unit.config.kind !== 'train' || !isMpDbmTrain(unit.config)) continue;
      expect(unit.config.training.kind).toBe('multi-prediction');
      expect(unit.config.earlyStopping).toEqual({ patience: 100, adversarialEps: null });
      // Only the classifier protocol's options are absent, not null: the config has no such fields.
      expect(Object.keys(unit.config).sort()).toEqual(['dataset', 'earlyStopping', 'kind', 'model', 'seed', 'training']);
    }
    expect(unitAt(planExperiment(EXPERIMENTS['mp-dbm'], 'paper', [1], 'sum'), 'mp-dbm', 1).config).toMatchObject({ model: { hidden: [{ units: 2087 }, { units: 3200 }], iterations: 14 } });
  });

  it('claims P13 from the FGSM ε = .25 evaluation through inference, unclipped deciding and clipped beside it', () => {
    const [claim] = EXPERIMENTS['mp-dbm'].claims;
    expect(claim.id).toBe('P13');
    expect(claim.metrics.clean_error).toMatchObject({ paper: 0.0088, from: { evaluation: 'mp-dbm-fgsm', metric: 'clean_error' } });
    expect(claim.metrics.adv_error).toMatchObject({ paper: 0.975, from: { evaluation: 'mp-dbm-fgsm', metric: 'adv_error' } });
    expect(claim.metrics.adv_error_clipped).toMatchObject({ paper: 0.975, from: { evaluation: 'mp-dbm-fgsm:clipped' } });
    expect(EXPERIMENTS['mp-dbm'].evaluations['mp-dbm-fgsm'].attack).toEqual({ kind: 'fgsm', eps: 0.25, clip: false });
    // The multi-inference reading is an alternative beside it, from the same net, crafting its own examples.
    expect(claim.metrics.clean_error_multi_inference).toMatchObject({ paper: 0.0088, alternative: expect.stringContaining('multi-inference') });
    const plan = planExperiment(EXPERIMENTS['mp-dbm'], 'cpu', [1], 'sum');
    const multi = unitAt(plan, 'mp-dbm-multi-inference-fgsm', 1).config as EvaluateUnitConfig;
    const plain = unitAt(plan, 'mp-dbm-fgsm', 1).config as EvaluateUnitConfig;
    expect(multi.inference).toBe('multi-inference');
    expect('inference' in plain).toBe(false);
    expect(multi.source).toEqual(plain.source);
    expect(multi.craftUnit).toBeUndefined();
  });
});

describe('the PGD monitor of adversarial training', () => {
  const trainUnits = (preset: PresetName) => experiments.flatMap((e) => planExperiment(e, preset, [1], 'sum').units).filter((u): u is Unit & { config: ClassifierTrainUnitConfig } => u.config.kind === 'train' && !isMpDbmTrain(u.config));

  it('is on for the adversarially trained maxout of every preset, at the training ε, clipped', () => {
    for (const preset of PRESET_NAMES) {
      const monitor = (unitAt(planExperiment(EXPERIMENTS['adversarial-training'], preset, SEEDS, 'sum'), 'maxout-adv', 1).config as ClassifierTrainUnitConfig).training.monitor;
      expect(monitor, preset).toEqual({ kind: 'pgd', eps: 0.25, steps: 10, stepSize: 0.0625, examples: 256, clip: true });
    }
  });

  it('is absent (not null) from every config that does not train adversarially, so their keys stay', () => {
    for (const preset of PRESET_NAMES) {
      for (const unit of trainUnits(preset)) {
        if (unit.config.training.objective.kind !== 'adversarial') expect('monitor' in unit.config.training, `${preset} ${unit.role}`).toBe(false);
      }
    }
    // Keys of a clean and a noise-trained maxout, unchanged by the monitor (first pinned at 28b631f, before
    // it existed; recomputed at train code version 4). Only a deliberate version bump (units/key.ts) may change them.
    const keyOf = (preset: PresetName, role: string) => planExperiment(EXPERIMENTS['adversarial-training'], preset, [1], 'sum').roles.get(role)!.get(1);
    expect(keyOf('smoke', 'maxout')).toBe('train-ae17f4b49b1cf4c26924');
    expect(keyOf('paper', 'maxout')).toBe('train-97aa5c8d35a5badb6f16');
    expect(keyOf('paper', 'maxout-sign-noise')).toBe('train-5c31d4b6025e5d89f68f');
    // The monitored net is new work: its key is not the unmonitored one's.
    const adv = unitAt(planExperiment(EXPERIMENTS['adversarial-training'], 'paper', [1], 'sum'), 'maxout-adv', 1).config as ClassifierTrainUnitConfig;
    const { monitor: _, ...unmonitored } = adv.training;
    expect(unitKey({ ...adv, training: unmonitored })).toBe('train-bb3a84685809ffbc99c9');
    expect(unitKey(adv)).not.toBe('train-bb3a84685809ffbc99c9');
  });
});
