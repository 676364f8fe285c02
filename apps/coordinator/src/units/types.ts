import type { DatasetName } from '@advx/data';
import type { Continuation, EarlyStoppingRule, ModelSpec, MpDbmSpec, MpDbmTrainConfig, TrainConfig } from '@advx/models';

/**
 * `clip`: whether adversarial examples are clipped to the pixel range [0, 1]. The paper never says
 * it clips (and its Fig. 4 is unclipped), so each attack states it; withClippedAlternatives
 * (catalogue/experiments/clipping.ts) reports the paper's FGSM claims both ways.
 */
export type AttackSpec =
  /**
   * `labels: 'predicted'` steps against the model's own predictions instead of the true labels: on
   * an adversarially trained net the difference is label leaking (Kurakin, Goodfellow & Bengio 2017).
   * Absent = the true labels, as the paper's J(θ, x, y).
   */
  | { kind: 'fgsm'; eps: number; clip: boolean; labels?: 'predicted' }
  | { kind: 'bim'; eps: number; steps: number; stepSize: number; clip: boolean }
  | { kind: 'pgd'; eps: number; steps: number; stepSize: number; clip: boolean }
  /** Tramèr et al. (2018): a random sign step of α, then FGSM of ε − α. */
  | { kind: 'rfgsm'; eps: number; alpha: number; clip: boolean }
  /** Wong et al. (2020): FGSM of `stepSize` from a uniform random start in the ball. */
  | { kind: 'fgsm-random-start'; eps: number; stepSize: number; clip: boolean }
  /** Dong et al. (2018): momentum iterative FGSM, α = ε / steps. */
  | { kind: 'mi-fgsm'; eps: number; steps: number; decay: number; clip: boolean }
  /** Croce & Hein (2020): APGD on the cross-entropy, AutoAttack's schedule. */
  | { kind: 'apgd-ce'; eps: number; steps: number; restarts: number; clip: boolean }
  /** Andriushchenko et al. (2020): score-based random search, no gradients. */
  | { kind: 'square'; eps: number; queries: number; clip: boolean }
  /** Per example, the first of `attacks` that misclassifies it (AutoAttack's worst case); they share `eps` and `clip`. */
  | { kind: 'worst-case'; eps: number; attacks: AttackSpec[]; clip: boolean };

/**
 * The independent pieces of work a sweep is made of. A unit's key is the hash of everything that
 * can change its numbers, so identical work is done once however many experiments ask for it.
 * Units that read models name them by their train units' keys.
 */
export interface DatasetRef {
  name: DatasetName;
  checksum: string;
  trainCount: number | null;
  testCount: number | null;
  validationSize: number;
  /** Validation examples a unit monitors (its first n; null or absent = all of them). */
  validationCount?: number | null;
  /** Keep only these classes, relabelled 0..k-1 (e.g. [3, 7] for §5's logistic regression). */
  classes: number[] | null;
}


/** A train unit: a feed-forward classifier (the paper's protocol) or an MP-DBM (multi-prediction training). */
export type TrainUnitConfig = ClassifierTrainUnitConfig | MpDbmTrainUnitConfig;

export interface ClassifierTrainUnitConfig {
  kind: 'train';
  dataset: DatasetRef;
  model: ModelSpec;
  training: TrainConfig;
  seed: number;
  earlyStopping: EarlyStoppingRule | null;
  /** Stage 2 of the paper's protocol (needs early stopping). */
  continuation: Continuation | null;
  /** Train for the epoch count that this (early-stopping) train unit chose. */
  epochsFrom: string | null;
  /** Train on training + validation examples (the retraining on all 60,000 of §6). */
  includeValidation: boolean;
  /** App. A: add this many N(0, I) rubbish examples labelled as an extra "none" class. */
  rubbishClass: number | null;
}

/**
 * An MP-DBM (§9, P13), trained by multi-prediction with early stopping on the clean validation
 * error (pylearn2 mpdbm.yaml). It has none of the classifier protocol's other options (no continued
 * stage, retraining or rubbish class), so its config has none of their fields.
 */
export interface MpDbmTrainUnitConfig {
  kind: 'train';
  dataset: DatasetRef;
  model: MpDbmSpec;
  training: MpDbmTrainConfig;
  seed: number;
  earlyStopping: EarlyStoppingRule | null;
}

export const isMpDbmTrain = (config: TrainUnitConfig): config is MpDbmTrainUnitConfig => (config.model as { kind?: unknown }).kind === 'mp-dbm';

export interface EvaluateUnitConfig {
  kind: 'evaluate';
  dataset: DatasetRef;
  /** Model(s) the adversarial examples are crafted on; several = an ensemble averaging probabilities. */
  source: string[];
  /** Model(s) judged on them (the same as source unless measuring transfer). */
  target: string[];
  /**
   * A second judge on the same examples: the target's predictions are compared with its (§8's "RBF
   * predicts softmax's class" on maxout-crafted examples). Absent from keys of units without one.
   */
  reference?: string[];
  attack: AttackSpec | null;
  split: 'train' | 'test';
  seed: number;
  /**
   * MP-DBMs (source, target, reference) classify with this procedure instead of their spec's
   * (MpDbm.reading). Absent from the keys of every evaluation without it.
   */
  inference?: 'multi-inference';
  /**
   * Key of the craft unit that made this evaluation's adversarial examples, when several
   * evaluations share them (a transfer-matrix row); absent when it crafts its own. Not part of the
   * unit's key: either way gives the same numbers.
   */
  craftUnit?: string;
}

/** Adversarial examples of a split crafted once on a source model, for the evaluations that read them. */
export interface CraftUnitConfig {
  kind: 'craft';
  dataset: DatasetRef;
  source: string[];
  attack: AttackSpec;
  split: 'train' | 'test';
  seed: number;
}

export interface RubbishUnitConfig {
  kind: 'rubbish';
  dataset: DatasetRef;
  model: string[];
  count: number;
  /** App. A / P18: FGSM applied to the rubbish examples (towards higher confidence), or none. */
  attack: AttackSpec | null;
  seed: number;
}

export interface LinearityUnitConfig {
  kind: 'linearity';
  dataset: DatasetRef;
  model: string[];
  /** The test example traced (Fig. 4 uses one digit). */
  exampleIndex: number;
  epsMax: number;
  points: number;
  seed: number;
}

/**
 * The paper's linear account of FGSM measured on one model (@advx/metrics firstOrderExamples): per
 * test example the margin to the runner-up, its input-gradient ℓ1 norm, and the margin after a
 * signed step of each ε (unclipped).
 */
export interface FirstOrderUnitConfig {
  kind: 'first-order';
  dataset: DatasetRef;
  model: string[];
  epsilons: number[];
  seed: number;
}

export interface FoolingUnitConfig {
  kind: 'fooling';
  dataset: DatasetRef;
  model: string[];
  samplesPerClass: number;
  eps: number;
  maxSteps: number;
  seed: number;
}

export interface ExamplesUnitConfig {
  kind: 'examples';
  dataset: DatasetRef;
  model: string[];
  attack: AttackSpec;
  count: number;
  weights: boolean;
  seed: number;
}

/**
 * The gradient-masking battery's white-box probes on one model (@advx/attacks maskingProbes): the
 * attacks the checks compare, on the test split, in the pixel box [0, 1]. Its transfer checks read
 * evaluate units (catalogue/plan.ts), so this unit's key depends on the model alone.
 */
export interface MaskingUnitConfig {
  kind: 'masking';
  dataset: DatasetRef;
  model: string[];
  /** The ε of the per-example comparisons; the ε grid of the monotonicity check; iterations; Square's queries. */
  eps: number;
  epsilons: number[];
  steps: number;
  queries: number;
  seed: number;
}

export type UnitConfig = MaskingUnitConfig | ExamplesUnitConfig | TrainUnitConfig | CraftUnitConfig | EvaluateUnitConfig | RubbishUnitConfig | LinearityUnitConfig | FirstOrderUnitConfig | FoolingUnitConfig;
export type UnitKind = UnitConfig['kind'];

export interface Unit {
  key: string;
  /** The experiment role it fills ("maxout", "maxout-fgsm"); not part of the key. */
  role: string;
  seed: number;
  config: UnitConfig;
  /** Keys of units whose results this one reads. */
  dependsOn: string[];
  /** For the train unit of one member of an ensemble: the model role and the member's index (absent otherwise). */
  member?: { role: string; index: number };
}

/** Named numbers (rates are fractions in [0, 1]); null where a metric does not apply. */
export type Metrics = Record<string, number | null>;

/** What a worker returns for a unit; the coordinator adds bookkeeping and writes it to result.json. */
export interface UnitOutput {
  metrics: Metrics;
  /** Arrays behind figures (images, curves, histograms), kept small. */
  artifacts?: object;
  /**
   * SHA-256 (hex) of each file the unit left for its readers, by path under its directory
   * (`model/weights.bin`): a train unit's model, a craft unit's examples. Every reader checks the
   * bytes it reads against these (units/integrity.ts). Absent for kinds that leave no files, and in
   * results written before digests were recorded.
   */
  files?: Record<string, string>;
  backend: string;
  computeSeconds: number;
  run: RunInfo;
}

/**
 * Where and when a unit ran, and the worker's memory after it: the farm's profile (bench) is built
 * from these. Times are epoch milliseconds, comparable across threads and processes of a machine.
 */
export interface RunInfo {
  /** host:pid:thread of the worker. */
  worker: string;
  startedAt: number;
  finishedAt: number;
  /** tfjs tensors alive on the worker's engine after the unit (equal to before it, or the unit fails). */
  tensorsAfter: number;
  /** This worker's V8 heap, and the resident set of its whole process (shared by its threads). */
  heapUsedMB: number;
  rssMB: number;
  /**
   * The kernels' threads (TF intra-op threads on tensorflow, 1 on wasm and cpu) and the CPU model:
   * with the backend, what bitwise reproducibility depends on (README, "Determinism"). Not part of
   * the key: another split gives the same numbers within the stated tolerance. Absent in older results.
   */
  threads?: number;
  cpu?: string;
  /** When the coordinator handed the unit to its executor, and when the output came back (set by the scheduler). */
  dispatchedAt?: number;
  receivedAt?: number;
}

export interface UnitResult extends Omit<UnitOutput, 'run'> {
  /** Absent in results written before run info was recorded. */
  run?: RunInfo;
  key: string;
  role: string;
  seed: number;
  config: UnitConfig;
  finishedAt: string;
  attempts: number;
}
