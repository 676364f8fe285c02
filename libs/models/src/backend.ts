import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';

/**
 * Run-time backend selection. The project prefers TensorFlow's native kernels, falls back to wasm,
 * and uses pure-JS cpu only as a last resort; every result records which one produced it.
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCE: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  /** Why earlier choices in the preference list were skipped (empty when the first one loaded). */
  skipped: { name: BackendName; reason: string }[];
}

const require = createRequire(import.meta.url);

/**
 * $TF_NUM_INTRAOP_THREADS as this thread saw it when register() loaded tfjs-node (see kernelThreads);
 * null until then.
 */
let intraOpAtLoad: string | undefined | null = null;

// tfjs-core alone registers no gradients; the @tensorflow/tfjs bundle registers them all into the
// process-global registry (its ESM-only `register_all_gradients` cannot be loaded by Node directly).
require('@tensorflow/tfjs');

/** Registers a backend's kernels with tfjs-core; throws with the loader's reason when unavailable. */
async function register(name: BackendName): Promise<void> {
  if (tf.findBackend(name)) return;
  switch (name) {
    case 'tensorflow': {
      // The native binding is optional: tools/native/setup.mjs builds it when it can.
      // TF_CPP_MIN_LOG_LEVEL keeps TensorFlow's start-up banner out of our logs.
      process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
      const packageName = process.env.ADVX_TFJS_NODE_PACKAGE ?? '@tensorflow/tfjs-node';
      intraOpAtLoad = process.env.TF_NUM_INTRAOP_THREADS;
      require(packageName);
      if (!tf.findBackend('tensorflow')) {
        throw new Error(`${packageName} loaded but registered no "tensorflow" backend (two copies of tfjs-core?)`);
      }
      return;
    }
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return;
  }
}

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_PREFERENCE as readonly string[]).includes(value);
}

/**
 * Activates `requested`, or the first loadable backend in preference order when it is 'auto'.
 * An explicitly requested backend that cannot load is an error, never a silent fallback:
 * a result labelled "tensorflow" must have been computed by TensorFlow.
 */
export async function selectBackend(requested: BackendName | 'auto' = 'auto'): Promise<BackendInfo> {
  const candidates = requested === 'auto' ? BACKEND_PREFERENCE : [requested];
  const skipped: BackendInfo['skipped'] = [];
  for (const name of candidates) {
    try {
      await register(name);
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
      await tf.ready();
      // One real op proves the backend runs, and creates native TensorFlow's eager context now: a
      // thread that loaded tfjs-node but never ran an op crashes the process (SIGSEGV) at exit.
      const probe = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)));
      const two = (await probe.data())[0];
      probe.dispose();
      if (two !== 2) throw new Error(`backend ${name} computed 1 + 1 = ${two}`);
      return { name, skipped };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      if (requested !== 'auto') throw new Error(`backend "${name}" is not available: ${reason}`);
      skipped.push({ name, reason });
    }
  }
  throw new Error(`no tfjs backend could be loaded: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/**
 * The threads one kernel of backend `name` may use, as a result's provenance: the thread count
 * changes how a sum is split, hence the last bits of a result.
 * - tensorflow: its intra-op pool, sized once per process from $TF_NUM_INTRAOP_THREADS (as it was
 *   when tfjs-node loaded), and from the number of cores when that is unset or not a positive integer.
 * - wasm: its own count, 1 on Node (tfjs-backend-wasm has no multithreaded build there).
 * - cpu: 1 (JavaScript).
 */
export async function kernelThreads(name: BackendName): Promise<number> {
  if (name === 'tensorflow') {
    // Loaded by someone else (a test importing tfjs-node itself): the variable as it is now.
    const fromEnv = Number(intraOpAtLoad === null ? process.env.TF_NUM_INTRAOP_THREADS : intraOpAtLoad);
    return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism();
  }
  if (name === 'wasm') return (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  return 1;
}
