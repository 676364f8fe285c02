import type { DatasetName } from '@advx/data';
import type { ModelSpec, TrainConfig } from '@advx/models';

export type PresetName = 'smoke' | 'cpu' | 'paper';
export const PRESET_NAMES: readonly PresetName[] = ['smoke', 'cpu', 'paper'];

/** How much of the data and schedule a preset uses; the report states it beside every number. */
export interface PresetScale {
  /** Training examples taken from the start of the training split (null = all of it). */
  trainCount: number | null;
  /** Test examples evaluated (null = all 10,000). */
  testCount: number | null;
  /** Held-out validation size carved from the end of the training set (the maxout papers use 10,000). */
  validationSize: number;
  /** Where the preset departs from the paper's protocol, for the report. */
  shortened: string;
}

export type AttackSpec = { kind: 'fgsm'; eps: number };

/** A model an experiment trains once per seed; training depends on the preset. */
export interface ModelRole {
  spec: ModelSpec;
  training: Record<PresetName, TrainConfig>;
}

/** An evaluation of one trained model, optionally under attack. */
export interface EvaluationRole {
  model: string;
  attack: AttackSpec | null;
}

export interface MetricClaim {
  /** The paper's value as a fraction (null when the paper gives none and we only report ours). */
  paper: number | null;
  /** |ours − paper| within this absolute tolerance counts as reproduced. */
  tolerance?: number;
  /** Which evaluation role and which of its metrics supplies the number. */
  from: { evaluation: string; metric: EvaluationMetric };
}

export type EvaluationMetric = 'clean_error' | 'clean_confidence' | 'adv_error' | 'adv_confidence' | 'adv_confidence_on_errors';

export interface ClaimSpec {
  id: string;
  description: string;
  metrics: Record<string, MetricClaim>;
}

/** An experiment of the paper, declared as data: what to train, what to measure, what the paper says. */
export interface ExperimentSpec {
  id: string;
  title: string;
  /** Where in the paper the claims come from. */
  section: string;
  dataset: DatasetName;
  /** Bumped when the experiment's code changes meaning, so cached runs are not reused across it. */
  version: number;
  scale: Record<PresetName, PresetScale>;
  models: Record<string, ModelRole>;
  evaluations: Record<string, EvaluationRole>;
  claims: ClaimSpec[];
}
