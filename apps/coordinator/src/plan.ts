import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { ExperimentSpec, PresetName } from './experiments/types.js';
import type { DatasetRef, Unit, UnitConfig } from './units.js';

/**
 * Bumped when unit code changes what a unit computes for the same config, so stale cached results
 * are not mistaken for current ones.
 */
export const UNIT_CODE_VERSION = 1;

export function unitKey(config: UnitConfig): string {
  const canonical = stringify({ v: UNIT_CODE_VERSION, ...config });
  return `${config.kind}-${createHash('sha256').update(canonical ?? '').digest('hex').slice(0, 20)}`;
}

export interface Plan {
  experiment: ExperimentSpec;
  preset: PresetName;
  seeds: number[];
  units: Unit[];
  /** evaluation role → seed → unit key, for aggregating claims. */
  evaluations: Map<string, Map<number, string>>;
}

/** Expands an experiment into units: one train unit per model and seed, then its evaluations. */
export function planExperiment(experiment: ExperimentSpec, preset: PresetName, seeds: number[], datasetChecksum: string): Plan {
  const scale = experiment.scale[preset];
  const dataset: DatasetRef = {
    name: experiment.dataset,
    checksum: datasetChecksum,
    trainCount: scale.trainCount,
    testCount: scale.testCount,
    validationSize: scale.validationSize,
  };
  const units: Unit[] = [];
  const evaluations = new Map<string, Map<number, string>>();
  for (const seed of seeds) {
    const trained = new Map<string, string>();
    for (const [role, model] of Object.entries(experiment.models)) {
      const config: UnitConfig = { kind: 'train', dataset, model: model.spec, training: model.training[preset], seed };
      const key = unitKey(config);
      trained.set(role, key);
      units.push({ key, role, seed, config, dependsOn: [] });
    }
    for (const [role, evaluation] of Object.entries(experiment.evaluations)) {
      const modelKey = trained.get(evaluation.model);
      if (!modelKey) throw new Error(`experiment ${experiment.id}: evaluation "${role}" names unknown model "${evaluation.model}"`);
      const config: UnitConfig = { kind: 'evaluate', dataset, model: modelKey, attack: evaluation.attack, seed };
      const key = unitKey(config);
      units.push({ key, role, seed, config, dependsOn: [modelKey] });
      if (!evaluations.has(role)) evaluations.set(role, new Map());
      evaluations.get(role)!.set(seed, key);
    }
  }
  return { experiment, preset, seeds, units, evaluations };
}
