import type { DatasetName } from '@advx/data';
import type { Continuation, EarlyStoppingRule, ModelSpec, MpDbmSpec, MpDbmTrainConfig, TrainConfig } from '@advx/models';
import type { AttackSpec } from '../../units/types.js';
import type { FigureId } from '../figure-ids.js';
import type { MetricUnit } from '../../support/metric-format.js';

/** Attacks are a unit's config (units/types.ts); experiments name them the same way. */
export type { AttackSpec };

export type PresetName = 'smoke' | 'cpu' | 'paper';
export const PRESET_NAMES: readonly PresetName[] = ['smoke', 'cpu', 'paper'];

/** Said wherever a smoke report shows claims: its statuses compare barely trained models with the paper. */
export const SMOKE_NOTE = 'Smoke preset: small models trained for seconds to check the machinery; a claim marked reproduced here says nothing about the paper. Use --preset cpu or paper for numbers.';

/** How much of the data and schedule a preset uses; the report states it beside every number. */
export interface PresetScale {
  /** Training examples taken from the start of the training split (null = all of it). */
  trainCount: number | null;
  /** Test examples evaluated (null = all 10,000). */
  testCount: number | null;
  /** Held-out validation size carved from the end of the training set (the maxout papers use 10,000). */
  validationSize: number;
  /** Validation examples monitored by early stopping and trained on by the continued stage (null or absent = all). */
  validationCount?: number | null;
  /** Where the preset departs from the paper's protocol, for the report. */
  shortened: string;
}

/** A model an experiment trains once per seed: a feed-forward classifier, or an MP-DBM (§9). */
export type ModelRole = ClassifierRole | MpDbmRole;

/** A feed-forward classifier an experiment trains once per seed (or `members` times per seed, for an ensemble). */
export interface ClassifierRole {
  /** One architecture, or one per preset where the paper's does not fit the cpu budget. */
  spec: ModelSpec | Record<PresetName, ModelSpec>;
  training: Record<PresetName, TrainConfig>;
  /** Train this many members per seed, with seeds seed + 1000·i (an ensemble, §9). */
  members?: number;
  earlyStopping?: Record<PresetName, EarlyStoppingRule>;
  /** Stage 2 of the paper's protocol: continue on all 60,000 from the best epoch (protocol.ts); null per preset = none. */
  continuation?: Record<PresetName, Continuation | null>;
  /** Retrain on training + validation for the epochs that this role's early stopping chose (§6). */
  retrainFrom?: string;
  /** App. A: extra "none" class of N(0, I) rubbish examples, this many of them. */
  rubbishClass?: Record<PresetName, number>;
}

/**
 * An MP-DBM trained by multi-prediction (mp-dbm/ in @advx/models), with early stopping on the clean
 * validation error. None of the classifier protocol's other options apply to it.
 */
export interface MpDbmRole {
  spec: MpDbmSpec | Record<PresetName, MpDbmSpec>;
  training: Record<PresetName, MpDbmTrainConfig>;
  earlyStopping?: Record<PresetName, EarlyStoppingRule>;
  members?: never;
  continuation?: never;
  retrainFrom?: never;
  rubbishClass?: never;
}

/** One member of a model role with `members` (an ensemble), by its index. */
export interface MemberRef {
  role: string;
  member: number;
}

/** A model of the experiment: a role by name (every member of it, for an ensemble), or one member. */
export type ModelRef = string | MemberRef;

export const memberOf = (role: string, member: number): MemberRef => ({ role, member });
export const refRole = (ref: ModelRef): string => (typeof ref === 'string' ? ref : ref.role);
/** How one member is named in unit roles and role names ("ensemble#0"); nothing parses it back. */
export const memberName = (role: string, member: number): string => `${role}#${member}`;
export const refName = (ref: ModelRef): string => (typeof ref === 'string' ? ref : memberName(ref.role, ref.member));

export interface EvaluationRole {
  source: ModelRef;
  /** Defaults to the source (no transfer). */
  target?: ModelRef;
  /** A second model judged on the same examples, whose predictions the target's are compared with. */
  reference?: ModelRef;
  attack: AttackSpec | null;
  split?: 'train' | 'test';
  /** Read the MP-DBMs it names with the multi-inference trick instead of their spec's procedure (P13's second reading). */
  inference?: 'multi-inference';
}

export type AnalysisRole =
  /** Figures 1–3: a few test examples with their gradient sign and FGSM versions, and first-layer weights. */
  | { kind: 'examples'; model: ModelRef; attack: AttackSpec; count: number; weights: boolean }
  | { kind: 'rubbish'; model: ModelRef; count: Record<PresetName, number>; attack?: AttackSpec }
  | { kind: 'linearity'; model: ModelRef; exampleIndex: number; epsMax: number; points: number }
  /** The linear account of FGSM on the test split: margins against input-gradient norms, and how linear the margin is along the step (beyond the paper). */
  | { kind: 'first-order'; model: ModelRef; epsilons: number[] }
  | { kind: 'fooling'; model: ModelRef; samplesPerClass: Record<PresetName, number>; eps: number; maxSteps: number };

export interface MetricClaim {
  /** The paper's value as a fraction (null when the paper gives none and we only report ours). */
  paper: number | null;
  /** |ours − paper| within this absolute tolerance counts as reproduced. */
  tolerance?: number;
  /** The paper states a bound rather than a value ("over 5% training error"): ours must lie on its side. */
  bound?: 'atLeast' | 'atMost';
  /** Which of the experiment's units supplies the number, and which of its metrics. */
  from: ClaimSource;
  /**
   * Set on another reading of the claim (clipped FGSM, another definition of confidence): shown
   * beside the paper's value with its own status, but it does not decide the claim's status.
   */
  alternative?: string;
  /** A plain number (a margin, a norm, an ε) rather than a rate shown as a percent (default). */
  unit?: MetricUnit;
}

/**
 * Where a claim's number comes from: a model, a named evaluation or analysis of the experiment, or one cell
 * of one of its matrices. The planner resolves each to its units' role (catalogue/plan.ts,
 * sourceRole) and refuses one that names nothing.
 */
export type ClaimSource =
  /** A trained model's own numbers (the epochs early stopping chose). */
  | { model: ModelRef; metric: string }
  | { evaluation: string; metric: string }
  | { analysis: string; metric: string }
  | { matrix: string; source: ModelRef; target: ModelRef; metric: string };

export interface ClaimSpec {
  id: string;
  description: string;
  metrics: Record<string, MetricClaim>;
}

/** A matrix over models (transfer or agreement), each cell an evaluation unit. */
export interface MatrixSpec {
  id: string;
  title: string;
  models: ModelRef[];
  attack: AttackSpec;
  /** Cell value: the target's error on the source's adversarial examples, or how often it agrees with the source. */
  metrics: ('adv_error' | 'agreement' | 'agreement_both_wrong')[];
}

/** A curve of error against ε for models and attacks (beyond the paper). */
export interface CurveSpec {
  id: string;
  title: string;
  models: ModelRef[];
  attacks: CurveAttack[];
  epsilons: number[];
  /** Iterations of the iterative attacks (BIM, PGD, MI-FGSM, APGD-CE). */
  steps: number;
  /** Square's queries per example (default 100 × steps). */
  queries?: number;
}

/** An attack of a curve; `worst-case` is, per example, the first of the curve's other attacks that succeeds. */
export type CurveAttack = 'fgsm' | 'bim' | 'pgd' | 'rfgsm' | 'fgsm-random-start' | 'mi-fgsm' | 'apgd-ce' | 'square' | 'worst-case';

/**
 * The gradient-masking battery (beyond the paper): probes per model × seed (a `masking` unit) that
 * the report turns into pass/fail checks beside the claims the model's numbers feed.
 */
export interface BatterySpec {
  /** Model roles (not members). */
  models: string[];
  /** The ε of the per-example comparisons (the paper's .25 on MNIST). */
  eps: number;
  /** The grid of the ε-monotonicity check. */
  epsilons: number[];
  /** Per preset: the first test examples probed (null = the experiment's), iterations of PGD, BIM and APGD-CE (the "more" probes double them), Square's queries. */
  scale: Record<PresetName, { examples: number | null; steps: number; queries: number }>;
  /** Per checked model, models of the experiment whose FGSM and PGD examples must not beat white-box on it. */
  transferFrom?: Partial<Record<string, ModelRef[]>>;
}

/** An experiment of the paper, declared as data: what to train, what to measure, what the paper says. */
export interface ExperimentSpec {
  id: string;
  title: string;
  /** Where in the paper the claims come from. */
  section: string;
  dataset: DatasetName;
  /** Restrict the dataset to these classes, relabelled 0..k-1. */
  classes?: number[];
  scale: Record<PresetName, PresetScale>;
  /** Run only the first n of the sweep's seeds on a preset where the experiment is too costly (the report says so). */
  maxSeeds?: Partial<Record<PresetName, number>>;
  models: Record<string, ModelRole>;
  evaluations: Record<string, EvaluationRole>;
  analyses?: Record<string, AnalysisRole>;
  matrices?: MatrixSpec[];
  curves?: CurveSpec[];
  battery?: BatterySpec;
  claims: ClaimSpec[];
  /** Set by a `--claims` sweep (catalogue/restrict-claims.ts): the claims it left out, for the report. */
  omittedClaims?: string[];
  /** Figures this experiment draws from its analyses' artifacts (the roles each reads: catalogue/figure-ids.ts). */
  figures?: FigureId[];
}
