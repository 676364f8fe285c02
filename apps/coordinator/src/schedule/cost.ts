import { DATASETS } from '@advx/data';
import { forwardFlops, mpDbmForwardFlops, mpDbmTrainingFlops } from '@advx/models';
import { isMpDbmTrain, type AttackSpec, type DatasetRef, type Unit, type UnitConfig } from '../units/types.js';

/**
 * A unit's cost before it runs, in forward-pass FLOPs: only to order the work, so that the longest
 * chains of units start first and no worker idles at the end while one long unit finishes alone.
 * It counts matMuls and passes (a gradient step is 3 forward passes: forward, ∂input, ∂weights) and
 * ignores what differs between machines; errors of a factor of 2 between kinds barely move the
 * order, which is set by training runs that differ by 10–1,000×.
 */

/** Forward-pass equivalents of one example through a backward pass (∂ of the input, or of the weights). */
const BACKWARD = 2;
const MNIST_TRAIN = 60_000;
const MNIST_TEST = 10_000;

/** Forward-pass equivalents per example of an attack: a gradient step is a forward and a backward. */
export function attackPasses(attack: AttackSpec | null): number {
  if (!attack) return 1;
  const step = 1 + BACKWARD;
  switch (attack.kind) {
    case 'fgsm':
    case 'rfgsm':
    case 'fgsm-random-start':
      return step + 1;
    case 'bim':
    case 'pgd':
    case 'mi-fgsm':
      return attack.steps * step + 1;
    case 'apgd-ce':
      return attack.steps * attack.restarts * step + 1;
    case 'square':
      return attack.queries + 1;
    case 'worst-case':
      return attack.attacks.reduce((sum, a) => sum + attackPasses(a), 0);
  }
}

function split(dataset: DatasetRef, which: 'train' | 'test'): number {
  return which === 'train' ? (dataset.trainCount ?? MNIST_TRAIN) : (dataset.testCount ?? MNIST_TEST);
}

/** Forward FLOPs per example of each train unit, by key: what the other kinds' costs scale with. */
function modelFlops(units: Unit[]): Map<string, number> {
  const flops = new Map<string, number>();
  for (const { key, config } of units) {
    if (config.kind !== 'train') continue;
    const [h, w, c] = DATASETS[config.dataset.name].shape;
    const classes = config.dataset.classes?.length ?? DATASETS[config.dataset.name].classNames.length;
    flops.set(key, isMpDbmTrain(config) ? mpDbmForwardFlops(config.model, h * w * c, classes) : forwardFlops(config.model, h * w * c, classes + (config.rubbishClass ? 1 : 0)));
  }
  return flops;
}

/** `ownFlops`: a train unit's model's forward FLOPs; `flopsOf`: those of the models another kind reads. */
function unitCost(config: UnitConfig, ownFlops: number, flopsOf: (models: string[]) => number): number {
  switch (config.kind) {
    case 'train': {
      if (isMpDbmTrain(config)) {
        // An inpainting pass costs more than classification (the pixels are inferred too); a step is its forward and backward.
        const [h, w, c] = DATASETS[config.dataset.name].shape;
        const classes = config.dataset.classes?.length ?? DATASETS[config.dataset.name].classNames.length;
        return mpDbmTrainingFlops(config.model, h * w * c, classes) * (1 + BACKWARD) * split(config.dataset, 'train') * config.training.epochs;
      }
      const t = config.training;
      // The two-pass adversarial step is about two clean steps; noise is one.
      const perStep = (1 + BACKWARD) * (t.objective.kind === 'adversarial' ? 2 : 1);
      const examples = split(config.dataset, 'train') + (config.rubbishClass ?? 0);
      const epochs = t.epochs + (config.continuation?.maxEpochs ?? 0);
      return ownFlops * perStep * examples * epochs;
    }
    case 'evaluate':
      return flopsOf(config.source) * split(config.dataset, config.split) * (config.craftUnit ? 1 : attackPasses(config.attack));
    case 'craft':
      return flopsOf(config.source) * split(config.dataset, config.split) * attackPasses(config.attack);
    case 'masking': {
      // PGD/BIM/APGD at `steps` and at twice that, PGD over the ε grid, Square, and FGSM.
      const iterative = (3 * 3 + config.epsilons.length) * config.steps * (1 + BACKWARD);
      return flopsOf(config.model) * split(config.dataset, 'test') * (iterative + config.queries);
    }
    case 'rubbish':
      return flopsOf(config.model) * config.count * attackPasses(config.attack);
    case 'linearity':
      return flopsOf(config.model) * config.points;
    case 'first-order':
      // One margin and its gradient, then one forward pass per ε.
      return flopsOf(config.model) * split(config.dataset, 'test') * (2 + BACKWARD + config.epsilons.length);
    case 'fooling':
      return flopsOf(config.model) * config.samplesPerClass * 10 * config.maxSteps * (1 + BACKWARD);
    case 'examples':
      return flopsOf(config.model) * config.count * attackPasses(config.attack);
  }
}

/**
 * Each unit's bottom level: its own cost plus the costliest chain of units that depend on it, down
 * to the end of the sweep. Starting the unit with the highest first is the classic list-scheduling
 * rule (HLFET) for a dependency graph on a few identical workers.
 */
export function bottomLevels(units: Unit[]): Map<string, number> {
  const flops = modelFlops(units);
  const byKey = new Map(units.map((u) => [u.key, u]));
  const dependents = new Map<string, string[]>();
  for (const unit of units) for (const d of unit.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), unit.key]);
  const own = new Map<string, number>();
  for (const unit of units) {
    // A model not in `units` (cached, or of another kind) counts as one FLOP: still ordered by passes.
    const flopsOf = (models: string[]) => models.reduce((sum, key) => sum + (flops.get(key) ?? 0), 0) || 1;
    own.set(unit.key, unitCost(unit.config, flops.get(unit.key) ?? 1, flopsOf));
  }
  const levels = new Map<string, number>();
  const level = (key: string): number => {
    const known = levels.get(key);
    if (known !== undefined) return known;
    const below = (dependents.get(key) ?? []).filter((d) => byKey.has(d)).map(level);
    const value = (own.get(key) ?? 0) + Math.max(0, ...below);
    levels.set(key, value);
    return value;
  };
  for (const unit of units) level(unit.key);
  return levels;
}
