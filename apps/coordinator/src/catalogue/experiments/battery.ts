import type { BatterySpec, ModelRef } from './types.js';

/**
 * The gradient-masking battery as the MNIST experiments run it: at the paper's ε = .25, with the
 * robustness curves' ε grid, on the first 1,000 test examples on `cpu` (all 10,000 on `paper`; 100
 * on `smoke`, which only checks the machinery). Iterations as the strong-attacks curves (20; 5 on
 * smoke); Square gets 300 queries, enough to beat white-box PGD on a net that masks its gradients,
 * not to match it on one that does not (Andriushchenko et al. use 5,000 for their headline numbers).
 */
export function mnistBattery(models: string[], transferFrom: Partial<Record<string, ModelRef[]>> = {}): BatterySpec {
  return {
    models,
    eps: 0.25,
    epsilons: [0.05, 0.1, 0.15, 0.2, 0.25, 0.3],
    scale: {
      smoke: { examples: 100, steps: 5, queries: 30 },
      cpu: { examples: 1000, steps: 20, queries: 300 },
      paper: { examples: null, steps: 20, queries: 300 },
    },
    transferFrom,
  };
}
