/**
 * Learning-rate and momentum schedules as functions of the absolute update and epoch count, as
 * pylearn2 runs them (the paper's maxout nets were trained with pylearn2's mnist_pi.yaml). Because
 * they do not depend on how long a run is, a short run is a prefix of a long one with the same
 * recipe, and a run resumed or continued at update u sees exactly the values it would have seen.
 */

/** pylearn2 `ExponentialDecay`: lr = initial / decayFactor^u before update u (0-based), floored at `min`. */
export interface LearningRateSchedule {
  initial: number;
  /** 1 = constant. mnist_pi: 1.000004 per minibatch update. */
  decayFactor: number;
  min: number;
}

/**
 * pylearn2 `MomentumAdjustor`: momentum moves linearly from `initial` to `final` between epochs
 * `startEpoch` and `saturateEpoch`, then stays at `final`. Epochs are 1-based: pylearn2 calls the
 * adjustor once before training and after every epoch, so epoch e trains with count e.
 */
export interface MomentumSchedule {
  initial: number;
  final: number;
  startEpoch: number;
  saturateEpoch: number;
}

/**
 * pylearn2 counts decay calls after each update and sets lr = base / factor^count, so update 0 uses
 * `initial`, update 1 uses initial / factor, and so on; once the floor is reached it stays there
 * (the floor is monotone here, so a max is the same thing).
 */
export function learningRateAt(schedule: LearningRateSchedule, update: number): number {
  if (!Number.isInteger(update) || update < 0) throw new Error(`update count must be an integer ≥ 0, got ${update}`);
  return Math.max(schedule.initial / schedule.decayFactor ** update, schedule.min);
}

export function momentumAt(schedule: MomentumSchedule, epoch: number): number {
  if (!Number.isInteger(epoch) || epoch < 1) throw new Error(`epoch must be an integer ≥ 1, got ${epoch}`);
  const { initial, final, startEpoch, saturateEpoch } = schedule;
  const width = saturateEpoch - startEpoch;
  if (width <= 0) return epoch >= startEpoch ? final : initial;
  const alpha = Math.min(1, Math.max(0, (epoch - startEpoch) / width));
  return initial * (1 - alpha) + alpha * final;
}

/** mnist_pi.yaml: lr .1 decaying by 1.000004 per update (floor 1e-6); momentum .5 → .7 over epochs 1–250. */
export const PYLEARN2_MNIST_LEARNING_RATE: LearningRateSchedule = { initial: 0.1, decayFactor: 1.000004, min: 1e-6 };
export const PYLEARN2_MNIST_MOMENTUM: MomentumSchedule = { initial: 0.5, final: 0.7, startEpoch: 1, saturateEpoch: 250 };
