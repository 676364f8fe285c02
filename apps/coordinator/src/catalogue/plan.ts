import { stringify } from 'safe-stable-stringify';
import { memberName, refName, refRole, type ModelRole, type MpDbmRole, type AnalysisRole, type AttackSpec, type BatterySpec, type ClaimSource, type CurveAttack, type CurveSpec, type ExperimentSpec, type ModelRef, type PresetName } from './experiments/types.js';
import { unitKey } from '../units/key.js';
import { FIGURE_INPUTS, isFigureId, type FigureInput } from './figure-ids.js';
import type { DatasetRef, Unit, UnitConfig } from '../units/types.js';

export interface Plan {
  experiment: ExperimentSpec;
  preset: PresetName;
  seeds: number[];
  units: Unit[];
  /** unit role → seed → unit key, for aggregating claims, matrices and curves. */
  roles: Map<string, Map<number, string>>;
  /** Matrix id → the roles of its cells, [source][target] in the matrix's model order. */
  matrixRoles: Record<string, string[][]>;
  /** Curve id → its series (model × attack, in the curve's order), each point's ε and role. */
  curveRoles: Record<string, { model: ModelRef; attack: CurveSpec['attacks'][number]; points: { eps: number; role: string }[] }[]>;
  /** The battery's models, each with the role of its masking units and its transfer sources (empty without a battery). */
  batteryRoles: BatteryRole[];
}

export interface BatteryRole {
  model: string;
  /** The role of the model's masking units (the white-box probes). */
  role: string;
  /** Per transfer source, the roles of the evaluations judging the model on its FGSM and PGD examples. */
  transfers: { from: ModelRef; fgsm: string; pgd: string }[];
}

export const matrixRole = (matrix: string, source: ModelRef, target: ModelRef) => `matrix:${matrix}:${refName(source)}→${refName(target)}`;
export const curveRole = (curve: string, model: ModelRef, attack: string, eps: number) => `curve:${curve}:${refName(model)}:${attack}:${eps}`;
export const maskingRole = (model: string) => `masking:${model}`;

/** The role of the units a claim's number is read from (one per seed). */
export function sourceRole(from: ClaimSource): string {
  if ('model' in from) return refName(from.model);
  if ('evaluation' in from) return from.evaluation;
  if ('analysis' in from) return from.analysis;
  return matrixRole(from.matrix, from.source, from.target);
}

/** Every claim source names an evaluation, analysis or matrix cell the experiment declares. */
function checkClaimSources(experiment: ExperimentSpec): void {
  for (const claim of experiment.claims)
    for (const [name, { from }] of Object.entries(claim.metrics)) {
      const matrix = 'matrix' in from ? experiment.matrices?.find((m) => m.id === from.matrix) : undefined;
      const found =
        'model' in from
          ? refRole(from.model) in experiment.models
          : 'evaluation' in from
          ? from.evaluation in experiment.evaluations
          : 'analysis' in from
            ? from.analysis in (experiment.analyses ?? {})
            : !!matrix && [from.source, from.target].every((ref) => matrix.models.some((m) => refName(m) === refName(ref)));
      if (!found) throw new Error(`experiment ${experiment.id}: claim ${claim.id}'s ${name} reads ${JSON.stringify(from)}, which the experiment does not declare`);
    }
}
export const maskingTransferRole = (model: string, from: ModelRef, attack: 'fgsm' | 'pgd') => `masking:${model}:${attack} from ${refName(from)}`;

function batteryRolesOf(battery: BatterySpec | undefined): BatteryRole[] {
  return (battery?.models ?? []).map((model) => ({
    model,
    role: maskingRole(model),
    transfers: (battery?.transferFrom?.[model] ?? []).map((from) => ({ from, fgsm: maskingTransferRole(model, from, 'fgsm'), pgd: maskingTransferRole(model, from, 'pgd') })),
  }));
}

/**
 * The battery's attacks, as its probes run them (@advx/attacks maskingProbes): in the pixel box,
 * iterative steps of 2.5 ε / steps. Transfer evaluations craft with these on the source.
 */
export function batteryAttack(kind: 'fgsm' | 'pgd', eps: number, steps: number): AttackSpec {
  return kind === 'fgsm' ? { kind, eps, clip: true } : { kind, eps, steps, stepSize: (2.5 * eps) / steps, clip: true };
}

/** The battery's probes see the first `examples` test examples of the experiment's split. */
function batteryDataset(battery: BatterySpec, preset: PresetName, dataset: DatasetRef): DatasetRef {
  const { examples } = battery.scale[preset];
  return examples === null ? dataset : { ...dataset, testCount: Math.min(examples, dataset.testCount ?? examples) };
}

export function craftRole(source: ModelRef, attack: AttackSpec, split: 'train' | 'test'): string {
  return `craft:${refName(source)}:${attackLabel(attack)}${attack.clip ? '' : ':unclipped'}${split === 'test' ? '' : `:${split}`}`;
}

/** An attack in a role name: kind@ε, with its iterations (×steps, or queries for Square) and a worst case's members. */
export function attackLabel(attack: AttackSpec): string {
  switch (attack.kind) {
    case 'bim':
    case 'pgd':
    case 'mi-fgsm':
    case 'apgd-ce':
      return `${attack.kind}@${attack.eps}×${attack.steps}`;
    case 'square':
      return `${attack.kind}@${attack.eps}×${attack.queries}`;
    case 'worst-case':
      return `worst-case(${attack.attacks.map(attackLabel).join(', ')})`;
    case 'fgsm':
      return `fgsm@${attack.eps}${attack.labels === 'predicted' ? ':predicted-labels' : ''}`;
    default:
      return `${attack.kind}@${attack.eps}`;
  }
}

function curveAttack(curve: CurveSpec, kind: CurveAttack, eps: number): AttackSpec {
  // Iterative attacks use the customary step of 2.5·ε / steps (Madry et al.), so they can cross the ball.
  // Curves go beyond the paper: their attacks keep to the pixel box, as robustness evaluations do.
  const { steps } = curve;
  switch (kind) {
    case 'fgsm':
      return { kind, eps, clip: true };
    case 'bim':
    case 'pgd':
      return { kind, eps, steps, stepSize: (2.5 * eps) / steps, clip: true };
    case 'rfgsm':
      return { kind, eps, alpha: eps / 2, clip: true }; // Tramèr et al.'s α = ε/2
    case 'fgsm-random-start':
      return { kind, eps, stepSize: 1.25 * eps, clip: true }; // Wong et al.'s α = 1.25 ε
    case 'mi-fgsm':
      return { kind, eps, steps, decay: 1, clip: true };
    case 'apgd-ce':
      return { kind, eps, steps, restarts: 1, clip: true };
    case 'square':
      return { kind, eps, queries: curve.queries ?? 100 * steps, clip: true };
    case 'worst-case':
      return { kind, eps, attacks: curve.attacks.filter((a) => a !== 'worst-case').map((a) => curveAttack(curve, a, eps)), clip: true };
  }
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
  const add = (role: string, seed: number, config: UnitConfig, dependsOn: string[], member?: Unit['member']) => {
    const key = unitKey(config);
    const taken = roles.get(role)?.get(seed);
    // A role names one unit per seed: two configs under one name would join the wrong numbers to a claim.
    if (taken !== undefined && taken !== key) throw new Error(`experiment ${experiment.id}: role "${role}" names two different units for seed ${seed}`);
    units.push({ key, role, seed, config, dependsOn, ...(member === undefined ? {} : { member }) });
    if (!roles.has(role)) roles.set(role, new Map());
    roles.get(role)!.set(seed, key);
    return key;
  };

  checkFigures(experiment);
  checkClaimSources(experiment);
  // The roles of matrix cells and curve points are named here only; the report reads them from the plan.
  const matrixRoles = Object.fromEntries((experiment.matrices ?? []).map((m) => [m.id, m.models.map((source) => m.models.map((target) => matrixRole(m.id, source, target)))]));
  const curveRoles = Object.fromEntries(
    (experiment.curves ?? []).map((c) => [c.id, c.models.flatMap((model) => c.attacks.map((attack) => ({ model, attack, points: c.epsilons.map((eps) => ({ eps, role: curveRole(c.id, model, attack, eps) })) })))]),
  );
  const batteryRoles = batteryRolesOf(experiment.battery);
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
        const config = trainConfig(model, preset, trainDataset, seed + 1000 * i, chooser ?? null);
        keys.push(add(count > 1 ? memberName(role, i) : role, seed, config, chooser ? [chooser] : [], count > 1 ? { role, index: i } : undefined));
      }
      members.set(role, keys);
    }

    const resolve = (ref: ModelRef, context: string): string[] => {
      const keys = members.get(refRole(ref));
      if (!keys) throw new Error(`experiment ${experiment.id}: ${context} names unknown model "${refName(ref)}"`);
      if (typeof ref === 'string') return keys;
      const key = keys[ref.member];
      if (!key) throw new Error(`experiment ${experiment.id}: ${context} names member ${ref.member} of "${ref.role}", which has ${keys.length}`);
      return [key];
    };
    // Evaluations are collected first: those that attack the same source the same way share one
    // craft unit (a transfer-matrix row is crafted once, then judged by every target).
    const evaluations: { role: string; source: string[]; target: string[]; reference?: string[]; attack: AttackSpec | null; split: 'train' | 'test'; sourceRef: ModelRef; on: DatasetRef; inference?: 'multi-inference' }[] = [];
    const evaluate = (role: string, source: ModelRef, target: ModelRef, attack: AttackSpec | null, split: 'train' | 'test', reference?: ModelRef, on: DatasetRef = dataset, inference?: 'multi-inference') => {
      const context = `evaluation "${role}"`;
      evaluations.push({ role, source: resolve(source, context), target: resolve(target, context), ...(reference ? { reference: resolve(reference, context) } : {}), attack, split, sourceRef: source, on, ...(inference ? { inference } : {}) });
    };

    for (const [role, e] of Object.entries(experiment.evaluations)) evaluate(role, e.source, e.target ?? e.source, e.attack, e.split ?? 'test', e.reference, dataset, e.inference);
    for (const matrix of experiment.matrices ?? []) {
      matrix.models.forEach((source, i) => matrix.models.forEach((target, j) => evaluate(matrixRoles[matrix.id][i][j], source, target, matrix.attack, 'test')));
    }
    for (const curve of experiment.curves ?? []) {
      for (const { model, attack, points } of curveRoles[curve.id]) for (const { eps, role } of points) evaluate(role, model, model, curveAttack(curve, attack, eps), 'test');
    }

    const battery = experiment.battery;
    if (battery) {
      const { steps } = battery.scale[preset];
      for (const { model, transfers } of batteryRoles)
        for (const t of transfers) for (const kind of ['fgsm', 'pgd'] as const) evaluate(t[kind], t.from, model, batteryAttack(kind, battery.eps, steps), 'test', undefined, batteryDataset(battery, preset, dataset));
    }

    const evaluationsPerCraft = new Map<string, number>();
    // An evaluation that reads its models another way crafts its own (a craft unit attacks the models as their specs say).
    const craftId = (e: (typeof evaluations)[number]) => (e.attack && !e.inference ? stringify({ source: e.source, attack: e.attack, split: e.split, on: e.on }) ?? '' : null);
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
          // The battery's transfer rows use fewer test examples than the experiment: named apart.
          const subset = e.on === dataset ? '' : `:first ${e.on.testCount}`;
          craftUnit = add(craftRole(e.sourceRef, e.attack, e.split) + subset, seed, { kind: 'craft', dataset: e.on, source: e.source, attack: e.attack, split: e.split, seed }, e.source);
          crafts.set(id, craftUnit);
        }
      }
      const reference = e.reference ? { reference: e.reference } : {};
      const config: UnitConfig = { kind: 'evaluate', dataset: e.on, source: e.source, target: e.target, ...reference, attack: e.attack, split: e.split, seed, ...(e.inference ? { inference: e.inference } : {}), ...(craftUnit ? { craftUnit } : {}) };
      const judges = [...e.target, ...(e.reference ?? [])];
      add(e.role, seed, config, craftUnit ? [craftUnit, ...judges] : [...new Set([...e.source, ...judges])]);
    }
    for (const [role, analysis] of Object.entries(experiment.analyses ?? {})) {
      const model = resolve(analysis.model, `analysis "${role}"`);
      add(role, seed, analysisConfig(analysis, model, dataset, preset, seed), model);
    }
    if (battery) {
      const { steps, queries } = battery.scale[preset];
      for (const { model, role } of batteryRoles) {
        const keys = resolve(model, `the battery's model "${model}"`);
        add(role, seed, { kind: 'masking', dataset: batteryDataset(battery, preset, dataset), model: keys, eps: battery.eps, epsilons: battery.epsilons, steps, queries, seed }, keys);
      }
    }
  }
  return { experiment, preset, seeds: planned, units, roles, matrixRoles, curveRoles, batteryRoles };
}

/** The train unit of one seed of a model role, for either model family. */
function trainConfig(role: ModelRole, preset: PresetName, dataset: DatasetRef, seed: number, epochsFrom: string | null): UnitConfig {
  const earlyStopping = role.earlyStopping?.[preset] ?? null;
  if (isMpDbmRole(role)) {
    const model = 'hidden' in role.spec ? role.spec : role.spec[preset];
    return { kind: 'train', dataset, model, training: role.training[preset], seed, earlyStopping };
  }
  return {
    kind: 'train',
    dataset,
    model: 'hidden' in role.spec ? role.spec : role.spec[preset],
    training: role.training[preset],
    seed,
    earlyStopping,
    continuation: role.continuation?.[preset] ?? null,
    epochsFrom,
    includeValidation: !!role.retrainFrom,
    rubbishClass: role.rubbishClass?.[preset] ?? null,
  };
}

/** An MP-DBM role: its spec (or every preset's) is an MP-DBM's. */
export function isMpDbmRole(role: ModelRole): role is MpDbmRole {
  const spec = 'hidden' in role.spec ? role.spec : Object.values(role.spec)[0];
  return (spec as { kind?: unknown }).kind === 'mp-dbm';
}

/** Every figure an experiment lists exists and finds the analyses it draws from (catalogue/figure-ids.ts). */
function checkFigures(experiment: ExperimentSpec): void {
  for (const id of experiment.figures ?? []) {
    if (!isFigureId(id)) throw new Error(`experiment ${experiment.id}: unknown figure "${id}" (known: ${Object.keys(FIGURE_INPUTS).join(', ')})`);
    for (const { role, kind } of Object.values<FigureInput>(FIGURE_INPUTS[id])) {
      const analysis = experiment.analyses?.[role];
      if (analysis?.kind !== kind) throw new Error(`experiment ${experiment.id}: figure ${id} draws from a ${kind} analysis "${role}", which the experiment ${analysis ? `has as ${analysis.kind}` : 'lacks'}`);
    }
  }
}

function analysisConfig(analysis: AnalysisRole, model: string[], dataset: DatasetRef, preset: PresetName, seed: number): UnitConfig {
  switch (analysis.kind) {
    case 'examples':
      return { kind: 'examples', dataset, model, attack: analysis.attack, count: analysis.count, weights: analysis.weights, seed };
    case 'rubbish':
      return { kind: 'rubbish', dataset, model, count: analysis.count[preset], attack: analysis.attack ?? null, seed };
    case 'linearity':
      return { kind: 'linearity', dataset, model, exampleIndex: analysis.exampleIndex, epsMax: analysis.epsMax, points: analysis.points, seed };
    case 'first-order':
      return { kind: 'first-order', dataset, model, epsilons: analysis.epsilons, seed };
    case 'fooling':
      return { kind: 'fooling', dataset, model, samplesPerClass: analysis.samplesPerClass[preset], eps: analysis.eps, maxSteps: analysis.maxSteps, seed };
  }
}
