import { availableParallelism } from 'node:os';
import { isBackendName, kernelThreads, selectBackend } from '@advx/models';
import { UsageError } from '../support/command-line.js';

/**
 * Where units run: the tfjs backend a thread starts and TensorFlow's intra-op threads, in one place
 * for every executor (the Piscina thread entry and the inline executor).
 */

/** A thread's started backend and its kernels' threads (see kernelThreads, @advx/models): recorded in every result. */
export interface Runtime {
  backend: string;
  threads: number;
}

/** Loads the requested backend ('auto' or a name) on this thread and runs its first op. */
export async function startRuntime(requested: string): Promise<Runtime> {
  if (requested !== 'auto' && !isBackendName(requested)) throw new Error(`unknown backend ${requested}`);
  const info = await selectBackend(requested);
  return { backend: info.name, threads: await kernelThreads(info.name) };
}

/**
 * TensorFlow's intra-op threads per unit. The count changes how Eigen splits a matMul's or a
 * reduction's sum, hence the last bits of every number (README, "Determinism"), so it is a setting
 * of its own: chosen once per process, before any thread loads TensorFlow, and recorded in every
 * result.
 */

/** One unit per core: the split that measured fastest on 2 cores (README, Backends). */
export function threadsPerWorker(workers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / workers));
}

/**
 * The threads a process's units run with: the flag, else $TF_NUM_INTRAOP_THREADS as the user set it,
 * else `fallback`. A malformed variable is a usage error, not TensorFlow's silent default.
 */
export function resolveThreadsPerUnit(flag: number | undefined, fallback: number, env: Record<string, string | undefined> = process.env): number {
  if (flag !== undefined) return flag;
  const fromEnv = env.TF_NUM_INTRAOP_THREADS;
  if (fromEnv === undefined || fromEnv === '') return fallback;
  if (!/^\d+$/.test(fromEnv) || Number(fromEnv) < 1) {
    throw new UsageError(`TF_NUM_INTRAOP_THREADS must be a positive integer, got "${fromEnv}" (or unset it and pass --threads-per-unit)`);
  }
  return Number(fromEnv);
}

/**
 * Sizes TensorFlow's thread pools. Native TensorFlow reads these from the process's C environment
 * once, when the first thread loads it, and every worker thread of the process shares that pool's
 * size; so this runs before any of them loads it.
 */
export function setTensorFlowThreads(threads: number): void {
  process.env.TF_NUM_INTRAOP_THREADS = String(threads);
  process.env.OMP_NUM_THREADS = String(threads);
  // Ops run one at a time per thread (eager), so an inter-op pool would only add idle threads.
  process.env.TF_NUM_INTEROP_THREADS ??= '1';
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
}
