import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { Objective } from '@advx/models';
import { isMpDbmTrain, type UnitConfig } from './types.js';

/**
 * Bumped, for one unit kind, when its handler changes what it computes for the same config, so
 * stale cached results are not mistaken for current ones, while the other kinds' results (trained
 * models above all) stay valid. History: 2 for all kinds at the start of this table; fooling 3
 * added per-step success rates; train 3 is the paper's protocol (absolute schedules, unscaled input
 * dropout, best-epoch weights, the continued stage); train 4 backpropagates from lr instead of 1
 * (the update needs no multiply by lr), which moves the weights by rounding only.
 */
export const UNIT_CODE_VERSIONS: Record<UnitConfig['kind'], number> = { train: 4, craft: 2, evaluate: 2, examples: 2, rubbish: 2, linearity: 2, 'first-order': 2, fooling: 3, masking: 1 };

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
  const step = config.kind === 'train' && !isMpDbmTrain(config) ? OBJECTIVE_STEP_VERSIONS[config.training.objective.kind] : undefined;
  const canonical = stringify({ v: UNIT_CODE_VERSIONS[config.kind], ...(step ? { step } : {}), ...hashed }) ?? '';
  return `${config.kind}-${createHash('sha256').update(canonical).digest('hex').slice(0, 20)}`;
}
