import type { EpochRecord } from '@advx/models';
import type { UnitConfig } from './types.js';

/**
 * What each unit kind's handler leaves in its result's `artifacts`: the arrays behind figures and
 * learning curves, kept small. Owned here, beside the units, by the compute side that writes them;
 * the report reads them.
 */

/**
 * Artifacts of a `train` unit: its epochs over both stages (learning curves). With a PGD monitor
 * (TrainConfig.monitor), each record's `monitor` holds that epoch's `cleanAccuracy` and
 * `pgdAccuracy` on the fixed training batch; `monitorSeries` (@advx/models) lists them, numbered over
 * both stages, for a catastrophic-overfitting check. Results written before the monitor existed
 * have no `monitor` field.
 */
export interface TrainArtifacts {
  history: EpochRecord[];
}

/** Artifacts of an `examples` unit (Figs. 1–3). */
export interface ExamplesArtifacts {
  shape: [number, number, number];
  eps: number;
  classNames: string[];
  labels: number[];
  clean: number[][];
  gradientSign: number[][];
  adversarial: number[][];
  cleanPrediction: number[];
  cleanConfidence: number[];
  adversarialPrediction: number[];
  adversarialConfidence: number[];
  /** First-layer weight vectors, one image each (for maxout: the pieces of the first units, unit by unit). */
  weights?: { images: number[][]; pieces: number };
}

export interface LinearityArtifacts {
  epsilons: number[];
  /** logits[i][class] at epsilons[i]. */
  logits: number[][];
  label: number;
}

export interface FoolingArtifacts {
  shape: [number, number, number];
  examples: number[][];
  successByClass: number[];
}

export interface RubbishArtifacts {
  classHistogram: number[];
}

/** Artifacts of a `masking` unit: the ε curves of its monotonicity check. */
export interface MaskingArtifacts {
  epsilons: number[];
  fgsmCurve: number[];
  pgdCurve: number[];
}

/** Artifacts by unit kind; kinds absent here leave none. */
export interface ArtifactsByKind {
  train: TrainArtifacts;
  examples: ExamplesArtifacts;
  linearity: LinearityArtifacts;
  fooling: FoolingArtifacts;
  rubbish: RubbishArtifacts;
  masking: MaskingArtifacts;
}

export type ArtifactKind = keyof ArtifactsByKind & UnitConfig['kind'];
