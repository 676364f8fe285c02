import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { AnalysisRole, AttackSpec, ExperimentSpec, ModelRef, PresetName } from './experiments/types.js';
import type { Objective } from '@advx/models';
import type { DatasetRef, Unit, UnitConfig } from '../units/types.js';

/**
 * Bumped, for one unit kind, when its handler changes what it computes for the same config, so
 * stale cached results are not mistaken for current ones, while the other kinds' results (trained
 * models above all) stay valid. History: 2 for all kinds at the start of this table; fooling 3
 * added per-step success rates; train 3 is the paper's protocol (absolute schedules, unscaled input
 * dropout, best-epoch weights, the continued stage).
 */
export const UNIT_CODE_VERSIONS: Record<UnitConfig['kind'], number> = { train: 3, craft: 2, evaluate: 2, examples: 2, rubbish: 2, linearity: 2, fooling: 3 };

/**
 * Bumped when one training objective's step changes what it computes, so that only its models are
 * retrained: adversarial 2 takes ∇ₓJ from the clean term's backward pass (train.ts), which equals
 * the former separate FGSM pass up to rounding. Absent = 1, and not hashed, so other keys stay.
 */
export const OBJECTIVE_STEP_VERSIONS: Partial<Record<Objective['kind'], number>> = { adversarial: 2 };

export function unitKey(config: UnitConfig): string {
  // Which craft unit an evaluation reads its examples from is how it works, not what it computes:
  // the numbers are the same as crafting them itself (a mechanics test checks this), so the same
  // evaluation planned by two experiments, shared in one and not in the other, is one unit.
  const hashed = config.kind === 'evaluate' ? { ...config, craftUnit: undefined } : config;
  const step = config.kind === 'train' ? OBJECTIVE_STEP_VERSIONS[config.training.objective.kind] : undefined;
  const canonical = stringify({ v: UNIT_CODE_VERSIONS[config.kind], ...(step ? { step } : {}), ...hashed }) ?? '';
  return `${config.kind}-${createHash('sha256').update(canonical).digest('hex').slice(0, 20)}`;
}

export interface Plan {
  experiment: ExperimentSpec;
  preset: PresetName;
  seeds: number[];
  units: Unit[];
  /** unit role → seed → unit key, for aggregating claims, matrices and curves. */
  roles: Map<string, Map<number, string>>;
}

export const matrixRole = (matrix: string, source: ModelRef, target: ModelRef) => `matrix:${matrix}:${source}→${target}`;
export const curveRole = (curve: string, model: ModelRef, attack: string, eps: number) => `curve:${curve}:${model}:${attack}:${eps}`;

export function craftRole(source: ModelRef, attack: AttackSpec, split: 'train' | 'test'): string {
  const steps = attack.kind === 'fgsm' ? '' : `×${attack.steps}`;
  return `craft:${source}:${attack.kind}@${attack.eps}${steps}${attack.clip ? '' : ':unclipped'}${split === 'test' ? '' : `:${split}`}`;
}

function curveAttack(kind: 'fgsm' | 'bim' | 'pgd', eps: number, steps: number): AttackSpec {
  // Iterative attacks use the customary step of 2.5·ε / steps (Madry et al.), so they can cross the ball.
  // Curves go beyond the paper: their attacks keep to the pixel box, as robustness evaluations do.
  return kind === 'fgsm' ? { kind, eps, clip: true } : { kind, eps, steps, stepSize: (2.5 * eps) / steps, clip: true };
}

/** Expands an experiment into units for each seed: training first, then what reads the models. */
export function planExperiment(experiment: ExperimentSpec, preset: PresetName, seeds: number[], datasetChecksum: string): Plan {
  const scale = experiment.scale[preset];
  const dataset: DatasetRef = {
    name: experiment.dataset,
    checksum: datasetChecksum,
    trainCount: scale.trainCount,
    testCount: scale.testCount,
    validationSize: scale.validationSize,
    // Only where a preset sets it, so the keys of runs that monitor the whole split did not change when it came.
    ...(scale.validationCount ? { validationCount: scale.validationCount } : {}),
    classes: experiment.classes ?? null,
  };
  const units: Unit[] = [];
  const roles = new Map<string, Map<number, string>>();
  const add = (role: string, seed: number, config: UnitConfig, dependsOn: string[]) => {
    const key = unitKey(config);
    units.push({ key, role, seed, config, dependsOn });
    if (!roles.has(role)) roles.set(role, new Map());
    roles.get(role)!.set(seed, key);
    return key;
  };

  const cap = experiment.maxSeeds?.[preset];
  const planned = cap ? seeds.slice(0, cap) : seeds;
  // Training reads neither the test split nor its size: leave it out of train keys so experiments
  // that evaluate on different test subsets still share their trained models.
  const trainDataset: DatasetRef = { ...dataset, testCount: null };
  for (const seed of planned) {
    const members = new Map<string, string[]>();
    // Roles that retrain from another role's choice of epochs come after it.
    const order = Object.entries(experiment.models).sort(([, a], [, b]) => Number(!!a.retrainFrom) - Number(!!b.retrainFrom));
    for (const [role, model] of order) {
      const keys: string[] = [];
      const count = model.members ?? 1;
      for (let i = 0; i < count; i++) {
        const chooser = model.retrainFrom ? members.get(model.retrainFrom)?.[i] : undefined;
        if (model.retrainFrom && !chooser) throw new Error(`experiment ${experiment.id}: model "${role}" retrains from unknown model "${model.retrainFrom}"`);
        if (model.retrainFrom && !experiment.models[model.retrainFrom].earlyStopping) {
          throw new Error(`experiment ${experiment.id}: model "${role}" retrains from "${model.retrainFrom}", which has no early stopping to choose the epochs`);
        }
        const config: UnitConfig = {
          kind: 'train',
          dataset: trainDataset,
          model: 'hidden' in model.spec ? model.spec : model.spec[preset],
          training: model.training[preset],
          seed: seed + 1000 * i,
          earlyStopping: model.earlyStopping?.[preset] ?? null,
          continuation: model.continuation?.[preset] ?? null,
          epochsFrom: chooser ?? null,
          includeValidation: !!model.retrainFrom,
          rubbishClass: model.rubbishClass?.[preset] ?? null,
        };
        keys.push(add(count > 1 ? `${role}#${i}` : role, seed, config, chooser ? [chooser] : []));
      }
      members.set(role, keys);
    }

    const resolve = (ref: ModelRef, context: string): string[] => {
      const [role, index] = ref.split('#');
      const keys = members.get(role);
      if (!keys) throw new Error(`experiment ${experiment.id}: ${context} names unknown model "${ref}"`);
      if (index === undefined) return keys;
      const key = keys[Number(index)];
      if (!key) throw new Error(`experiment ${experiment.id}: ${context} names member ${index} of "${role}", which has ${keys.length}`);
      return [key];
    };
    // Evaluations are collected first: those that attack the same source the same way share one
    // craft unit (a transfer-matrix row is crafted once, then judged by every target).
    const evaluations: { role: string; source: string[]; target: string[]; reference?: string[]; attack: AttackSpec | null; split: 'train' | 'test'; sourceRef: ModelRef }[] = [];
    const evaluate = (role: string, source: ModelRef, target: ModelRef, attack: AttackSpec | null, split: 'train' | 'test', reference?: ModelRef) => {
      const context = `evaluation "${role}"`;
      evaluations.push({ role, source: resolve(source, context), target: resolve(target, context), ...(reference ? { reference: resolve(reference, context) } : {}), attack, split, sourceRef: source });
    };

    for (const [role, e] of Object.entries(experiment.evaluations)) evaluate(role, e.source, e.target ?? e.source, e.attack, e.split ?? 'test', e.reference);
    for (const matrix of experiment.matrices ?? []) {
      for (const source of matrix.models) for (const target of matrix.models) evaluate(matrixRole(matrix.id, source, target), source, target, matrix.attack, 'test');
    }
    for (const curve of experiment.curves ?? []) {
      for (const model of curve.models)
        for (const attack of curve.attacks)
          for (const eps of curve.epsilons) evaluate(curveRole(curve.id, model, attack, eps), model, model, curveAttack(attack, eps, curve.steps), 'test');
    }

    const evaluationsPerCraft = new Map<string, number>();
    const craftId = (e: (typeof evaluations)[number]) => (e.attack ? stringify({ source: e.source, attack: e.attack, split: e.split }) ?? '' : null);
    for (const e of evaluations) {
      const id = craftId(e);
      if (id) evaluationsPerCraft.set(id, (evaluationsPerCraft.get(id) ?? 0) + 1);
    }
    const crafts = new Map<string, string>();
    for (const e of evaluations) {
      const id = craftId(e);
      let craftUnit: string | undefined;
      if (id && e.attack && evaluationsPerCraft.get(id)! > 1) {
        craftUnit = crafts.get(id);
        if (!craftUnit) {
          craftUnit = add(craftRole(e.sourceRef, e.attack, e.split), seed, { kind: 'craft', dataset, source: e.source, attack: e.attack, split: e.split, seed }, e.source);
          crafts.set(id, craftUnit);
        }
      }
      const reference = e.reference ? { reference: e.reference } : {};
      const config: UnitConfig = { kind: 'evaluate', dataset, source: e.source, target: e.target, ...reference, attack: e.attack, split: e.split, seed, ...(craftUnit ? { craftUnit } : {}) };
      const judges = [...e.target, ...(e.reference ?? [])];
      add(e.role, seed, config, craftUnit ? [craftUnit, ...judges] : [...new Set([...e.source, ...judges])]);
    }
    for (const [role, analysis] of Object.entries(experiment.analyses ?? {})) {
      const model = resolve(analysis.model, `analysis "${role}"`);
      add(role, seed, analysisConfig(analysis, model, dataset, preset, seed), model);
    }
  }
  return { experiment, preset, seeds: planned, units, roles };
}

function analysisConfig(analysis: AnalysisRole, model: string[], dataset: DatasetRef, preset: PresetName, seed: number): UnitConfig {
  switch (analysis.kind) {
    case 'examples':
      return { kind: 'examples', dataset, model, attack: analysis.attack, count: analysis.count, weights: analysis.weights, seed };
    case 'rubbish':
      return { kind: 'rubbish', dataset, model, count: analysis.count[preset], attack: analysis.attack ?? null, seed };
    case 'linearity':
      return { kind: 'linearity', dataset, model, exampleIndex: analysis.exampleIndex, epsMax: analysis.epsMax, points: analysis.points, seed };
    case 'fooling':
      return { kind: 'fooling', dataset, model, samplesPerClass: analysis.samplesPerClass[preset], eps: analysis.eps, maxSteps: analysis.maxSteps, seed };
  }
}
