import * as tf from '@tensorflow/tfjs-core';
import { fgsm } from '@advx/attacks';
import { Rng } from '@advx/data';
import { asAttackTarget, Classifier, maxoutSpec, selectBackend, train, type BackendName, type ModelSpec, type Objective, type TrainConfig, type TrainData } from '@advx/models';
import { stepFlops } from './flops.js';
import { timeMpDbm, type MpDbmBench } from './mp-dbm.js';
import type { BenchOptions, Workload } from './options.js';
import { profileTrainingStep, type StepProfile } from './profile.js';

/**
 * One backend's measurements, run inside its own child process (tfjs backends and TensorFlow's
 * thread pool are process-global). Everything timed is the project's own code: `train` (the loop
 * sweeps run: dropout masks from our PRNG, momentum SGD, max-norm), `fgsm` via `asAttackTarget`.
 */
/** What one measuring child process is told: the bench's settings, for one backend and thread count. */
export type ChildSettings = Pick<BenchOptions, 'batch' | 'steps' | 'warmup' | 'reps' | 'fgsmCount' | 'fgsmBatch' | 'sgemmSize' | 'sgemmReps' | 'workloads'> & {
  backend: BackendName;
  /** TF_NUM_INTRAOP_THREADS the parent set for this process (null = left to TensorFlow). */
  threads: number | null;
  /** Steps of the headline training step to profile kernel by kernel (0 = no profile). */
  profileSteps: number;
};

export interface WorkloadResult extends Workload {
  train_ex_s: number;
  adv_train_ex_s: number;
  fgsm_ex_s: number;
  /** matMul GFLOP/s of its training step. */
  gflops: number;
}

export interface Timing {
  /** Median over the timed repetitions (the headline number). */
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export interface ChildResult {
  backend: string;
  threads: number | null;
  /** Threads the backend reports using (wasm's XNNPACK pool; TF's intra-op setting). */
  backendThreads: number | null;
  versions: Record<string, string>;
  train_ex_s: number;
  train_nodrop_ex_s: number;
  adv_train_ex_s: number;
  fgsm_ex_s: number;
  /** matMul GFLOP/s of the dropout training step (a). */
  gflops: number;
  adv_gflops: number;
  fgsm_gflops: number;
  sgemm: { size: number; best_gflops: number; median_gflops: number } | null;
  timings: Record<'train' | 'train_nodrop' | 'adv_train' | 'fgsm', Timing>;
  flopsPerExample: ReturnType<typeof stepFlops>;
  /** tf.memory().numTensors before the model and after each phase: must stay flat. */
  tensors: Record<string, number>;
  /** The MP-DBM's MP-training step and FGSM through its inference (bench/mp-dbm.ts); native backend only (minutes on wasm). */
  mp_dbm: MpDbmBench | null;
  /** Milliseconds to draw one step's dropout masks with the project's PRNG (no tfjs involved). */
  mask_ms_per_step: number;
  workloads: WorkloadResult[];
  /** Where one headline training step's time goes, by kernel (profile.ts); null when not profiled. */
  profile: StepProfile | null;
  maxRSSkB: number;
  seconds: number;
}

const INPUT = 784;
const CLASSES = 10;

export function summarize(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], samples };
}

function syntheticData(count: number, rng: Rng): TrainData {
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.int(CLASSES);
  return { images: rng.fillUniform(new Float32Array(count * INPUT)), labels, count };
}

/** The bench's training config: lr small and constant so random labels never diverge (schedule values do not change the work). */
export function benchTrainConfig(epochs: number, batchSize: number, objective: Objective): TrainConfig {
  return { epochs, batchSize, learningRate: { initial: 0.01, decayFactor: 1, min: 0 }, momentum: { initial: 0.5, final: 0.5, startEpoch: 1, saturateEpoch: 1 }, objective };
}

/** examples/s of each `train` epoch after the warm-up ones; one epoch = `steps` full batches. */
async function timeTraining(spec: ModelSpec, objective: Objective, s: ChildSettings, data: TrainData, batch = s.batch): Promise<number[]> {
  const model = new Classifier(spec, INPUT, CLASSES, Rng.fromSeed(1));
  const config = benchTrainConfig(s.warmup + s.reps, batch, objective);
  const rates: number[] = [];
  try {
    await train(model, data, config, Rng.fromSeed(2), {
      onEpoch: (r) => {
        if (r.epoch > s.warmup) rates.push(r.examplesPerSecond);
      },
    });
  } finally {
    model.dispose();
  }
  return rates;
}

/** FGSM (ε = .25, true labels, no dropout) on `count` images in batches, as evaluation units do. */
function timeFgsm(s: ChildSettings, data: TrainData, spec = maxoutSpec()): number[] {
  const model = new Classifier(spec, INPUT, CLASSES, Rng.fromSeed(1));
  const target = asAttackTarget(model);
  const once = () => {
    for (let start = 0; start < s.fgsmCount; start += s.fgsmBatch) {
      const n = Math.min(s.fgsmBatch, s.fgsmCount - start);
      tf.tidy(() => {
        const x = tf.tensor2d(data.images.subarray(start * INPUT, (start + n) * INPUT), [n, INPUT]);
        const labels = tf.tensor1d(data.labels.subarray(start, start + n), 'int32');
        // A scalar read back makes every backend finish the batch before the clock stops.
        tf.sum(fgsm(target, x, { eps: 0.25, labels })).dataSync();
      });
    }
  };
  const rates: number[] = [];
  try {
    for (let i = 0; i < s.warmup + s.reps; i++) {
      const t = performance.now();
      once();
      const seconds = (performance.now() - t) / 1000;
      if (i >= s.warmup) rates.push(s.fgsmCount / seconds);
    }
  } finally {
    model.dispose();
  }
  return rates;
}

/** n×n float32 matMul GFLOP/s (inputs resident; one element read back per product). */
function timeSgemm(n: number, reps: number): { size: number; best_gflops: number; median_gflops: number } {
  const a = tf.randomUniform([n, n], -1, 1);
  const b = tf.randomUniform([n, n], -1, 1);
  const rates: number[] = [];
  try {
    for (let i = 0; i < reps + 1; i++) {
      const t = performance.now();
      tf.tidy(() => void tf.slice(tf.matMul(a, b), [0, 0], [1, 1]).dataSync());
      const seconds = (performance.now() - t) / 1000;
      if (i > 0) rates.push((2 * n ** 3) / seconds / 1e9);
    }
  } finally {
    a.dispose();
    b.dispose();
  }
  const t = summarize(rates);
  return { size: n, best_gflops: t.max, median_gflops: t.median };
}

/** The JS-side share of dropout: `Rng.fillDropoutMask` for every masked width of one batch. */
function timeMaskDrawing(batch: number, reps: number): number {
  const widths = new Classifier(maxoutSpec(), INPUT, CLASSES, Rng.fromSeed(1));
  const shapes = widths.dropoutWidths();
  widths.dispose();
  const rng = Rng.fromSeed(6);
  const buffers = shapes.map(({ width }) => new Float32Array(batch * width));
  const draw = () => shapes.forEach(({ keep }, i) => keep < 1 && rng.fillDropoutMask(buffers[i], keep));
  draw();
  const t = performance.now();
  for (let i = 0; i < reps; i++) draw();
  return (performance.now() - t) / reps;
}

export async function runChild(s: ChildSettings, log: (line: string) => void): Promise<ChildResult> {
  const started = performance.now();
  const info = await selectBackend(s.backend);
  const versions: Record<string, string> = { 'tfjs-core': tf.version_core };
  let backendThreads: number | null = s.threads;
  if (info.name === 'tensorflow') {
    const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
    if (binding?.TF_Version) versions.tensorflow = binding.TF_Version;
  } else if (info.name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    backendThreads = wasm.getThreadsCount();
  } else backendThreads = 1;

  const flops = stepFlops(maxoutSpec(), INPUT, CLASSES);
  const data = syntheticData(s.batch * s.steps, Rng.fromSeed(3));
  const fgsmData = syntheticData(s.fgsmCount, Rng.fromSeed(4));
  const tensors: Record<string, number> = { start: tf.memory().numTensors };
  const phase = async <T>(name: string, work: () => T | Promise<T>): Promise<T> => {
    const t = performance.now();
    const result = await work();
    tensors[name] = tf.memory().numTensors;
    log(`${info.name}${s.threads ? ` ×${s.threads}` : ''}: ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    if (tensors[name] !== tensors.start) throw new Error(`${name} left ${tensors[name] - tensors.start} tensors alive`);
    return result;
  };

  const adversarial: Objective = { kind: 'adversarial', alpha: 0.5, eps: 0.25, clip: false };
  const trainT = summarize(await phase('train', () => timeTraining(maxoutSpec(), { kind: 'clean' }, s, data)));
  const noDropT = summarize(await phase('train_nodrop', () => timeTraining(maxoutSpec({ inputKeep: 1, hiddenKeep: 1 }), { kind: 'clean' }, s, data)));
  const advT = summarize(await phase('adv_train', () => timeTraining(maxoutSpec(), adversarial, s, data)));
  const fgsmT = summarize(await phase('fgsm', () => timeFgsm(s, fgsmData)));
  const maskMs = await phase('masks', () => timeMaskDrawing(s.batch, Math.max(10, s.reps * s.steps)));
  const mpDbm = info.name === 'tensorflow' ? await phase('mp_dbm', () => timeMpDbm(s)) : null;
  const sgemm = s.sgemmSize > 0 ? await phase('sgemm', () => timeSgemm(s.sgemmSize, s.sgemmReps)) : null;
  const workloads: WorkloadResult[] = [];
  for (const w of s.workloads) {
    const spec = maxoutSpec({ units: w.units });
    const wData = syntheticData(w.batch * s.steps, Rng.fromSeed(3));
    const name = `${w.units} units, batch ${w.batch}`;
    const trainRate = summarize(await phase(`${name}: train`, () => timeTraining(spec, { kind: 'clean' }, s, wData, w.batch))).median;
    const advRate = summarize(await phase(`${name}: adv_train`, () => timeTraining(spec, adversarial, s, wData, w.batch))).median;
    const fgsmRate = summarize(await phase(`${name}: fgsm`, () => timeFgsm(s, fgsmData, spec))).median;
    workloads.push({ ...w, train_ex_s: trainRate, adv_train_ex_s: advRate, fgsm_ex_s: fgsmRate, gflops: (trainRate * stepFlops(spec, INPUT, CLASSES).train) / 1e9 });
  }
  const profile = s.profileSteps > 0 ? await phase('profile', () => profileTrainingStep(maxoutSpec(), data, benchTrainConfig(1, s.batch, { kind: 'clean' }), s.profileSteps)) : null;

  return {
    backend: info.name,
    threads: s.threads,
    backendThreads,
    versions,
    train_ex_s: trainT.median,
    train_nodrop_ex_s: noDropT.median,
    adv_train_ex_s: advT.median,
    fgsm_ex_s: fgsmT.median,
    gflops: (trainT.median * flops.train) / 1e9,
    adv_gflops: (advT.median * flops.advTrain) / 1e9,
    fgsm_gflops: (fgsmT.median * flops.fgsm) / 1e9,
    sgemm,
    timings: { train: trainT, train_nodrop: noDropT, adv_train: advT, fgsm: fgsmT },
    flopsPerExample: flops,
    tensors,
    mp_dbm: mpDbm,
    mask_ms_per_step: maskMs,
    workloads,
    profile,
    maxRSSkB: process.resourceUsage().maxRSS,
    seconds: (performance.now() - started) / 1000,
  };
}
