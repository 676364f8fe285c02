import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@advx/data';
import { Classifier, train, type ModelSpec, type TrainConfig, type TrainData } from '@advx/models';

/**
 * Where a training step's time goes, kernel by kernel (tf.profile times each kernel the backend
 * runs). Kernels are grouped by what they do, told apart by name and shapes:
 * - matMul: the forward and backward matrix products;
 * - maxout: the max over pieces and its gradient (the only rank-3 tensors of the step);
 * - weights: elementwise work on tensors shaped like a parameter (momentum, update, max-norm, and
 *   the bias gradients' sums);
 * - other: dropout multiplies, bias adds, the loss, slicing batches.
 * What the kernels do not account for of the unprofiled step is JS and per-op dispatch.
 */
export interface StepProfile {
  steps: number;
  /** Milliseconds per step, unprofiled (median of 3 epochs). */
  stepMs: number;
  /** Kernel milliseconds per step by group, and their sum. */
  groups: Record<KernelGroup, number>;
  kernelMs: number;
  /** Kernel calls per step. */
  calls: number;
  /** The costliest kernels, ms per step. */
  top: { kernel: string; shapes: string; ms: number; callsPerStep: number }[];
}

export type KernelGroup = 'matMul' | 'maxout' | 'weights' | 'other';

const MATMULS = new Set(['BatchMatMul', 'MatMul', '_FusedMatMul']);

function groupOf(name: string, shapes: number[][], parameterShapes: Set<string>): KernelGroup {
  if (MATMULS.has(name)) return 'matMul';
  if (shapes.some((s) => s?.length === 3)) return 'maxout';
  if (shapes[0] && parameterShapes.has(shapes[0].join('x'))) return 'weights';
  return 'other';
}

export async function profileTrainingStep(spec: ModelSpec, data: TrainData, config: TrainConfig, steps: number): Promise<StepProfile> {
  const inputSize = data.images.length / data.count;
  const count = Math.min(data.count, steps * config.batchSize);
  const slice: TrainData = { images: data.images.subarray(0, count * inputSize), labels: data.labels.subarray(0, count), count };
  const model = new Classifier(spec, inputSize, 10, Rng.fromSeed(1));
  try {
    const parameterShapes = new Set(model.variables.flatMap((v) => [v.shape.join('x'), [1, ...v.shape.slice(-1)].join('x')]));
    const epoch = () => train(model, slice, config, Rng.fromSeed(2));
    await epoch(); // warm-up: kernels compiled, memory pools grown
    const walls: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await epoch();
      walls.push((performance.now() - t) / steps);
    }
    walls.sort((a, b) => a - b);
    const info = await tf.profile(async () => {
      await epoch();
    });
    const groups: Record<KernelGroup, number> = { matMul: 0, maxout: 0, weights: 0, other: 0 };
    const byKernel = new Map<string, { kernel: string; shapes: string; ms: number; calls: number }>();
    let calls = 0;
    for (const k of info.kernels) {
      // Ops built with customGrad ("logSoftmax__op") wrap kernels that are listed on their own.
      if (k.name.endsWith('__op')) continue;
      const ms = await Promise.resolve(k.kernelTimeMs as number | Promise<number | { error: string }>);
      const value = typeof ms === 'number' ? ms : 0;
      calls++;
      groups[groupOf(k.name, k.inputShapes, parameterShapes)] += value / steps;
      const shapes = JSON.stringify(k.inputShapes);
      const key = `${k.name} ${shapes}`;
      const entry = byKernel.get(key) ?? { kernel: k.name, shapes, ms: 0, calls: 0 };
      entry.ms += value;
      entry.calls++;
      byKernel.set(key, entry);
    }
    const top = [...byKernel.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 12)
      .map((e) => ({ kernel: e.kernel, shapes: e.shapes, ms: e.ms / steps, callsPerStep: e.calls / steps }));
    const kernelMs = Object.values(groups).reduce((a, b) => a + b, 0);
    return { steps, stepMs: walls[1], groups, kernelMs, calls: calls / steps, top };
  } finally {
    model.dispose();
  }
}
