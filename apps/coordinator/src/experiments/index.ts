import { fgsmBaseline } from './fgsm-baseline.js';
import type { ExperimentSpec } from './types.js';

export * from './types.js';

/** The catalogue: adding an experiment means adding one file and one line here. */
export const EXPERIMENTS: Record<string, ExperimentSpec> = {
  [fgsmBaseline.id]: fgsmBaseline,
};
