import type { DatasetName } from '@advx/data';
import type { ModelSpec, TrainConfig } from '@advx/models';
import type { AttackSpec } from './experiments/types.js';

/**
 * The independent pieces of work a sweep is made of. A unit's key is the hash of everything that
 * can change its numbers, so identical work is done once however many experiments ask for it.
 */
export interface DatasetRef {
  name: DatasetName;
  checksum: string;
  trainCount: number | null;
  testCount: number | null;
  validationSize: number;
}

export interface TrainUnitConfig {
  kind: 'train';
  dataset: DatasetRef;
  model: ModelSpec;
  training: TrainConfig;
  seed: number;
}

export interface EvaluateUnitConfig {
  kind: 'evaluate';
  dataset: DatasetRef;
  /** Key of the train unit whose model is evaluated. */
  model: string;
  attack: AttackSpec | null;
  seed: number;
}

export type UnitConfig = TrainUnitConfig | EvaluateUnitConfig;

export interface Unit {
  key: string;
  /** The experiment role it fills ("maxout", "maxout-fgsm"); not part of the key. */
  role: string;
  seed: number;
  config: UnitConfig;
  /** Keys of units whose results this one reads. */
  dependsOn: string[];
}

export interface EvaluationMetrics {
  clean_error: number;
  clean_confidence: number;
  adv_error: number | null;
  adv_confidence: number | null;
  adv_confidence_on_errors: number | null;
  count: number;
}

export interface TrainMetrics {
  epochs: number;
  final_loss: number;
  examples_per_second: number;
  train_count: number;
}

/** What a worker returns for a unit; the coordinator adds bookkeeping and writes it to result.json. */
export interface UnitOutput {
  metrics: EvaluationMetrics | TrainMetrics;
  backend: string;
  computeSeconds: number;
}

export interface UnitResult extends UnitOutput {
  key: string;
  role: string;
  seed: number;
  config: UnitConfig;
  finishedAt: string;
  attempts: number;
}
