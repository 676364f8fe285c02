import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../..', import.meta.url));
export const mainScript = `${root}/dist/apps/coordinator/main.mjs`;

/** MNIST for end-to-end tests: $MNIST_DIR, else ../shared beside the checkout (as CI lays it out). */
export const mnistDir = [process.env.MNIST_DIR, `${root}/../shared/datasets/mnist`, '/work/shared/datasets/mnist'].find(
  (d): d is string => !!d && existsSync(`${d}/train-labels-idx1-ubyte.gz`),
);

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (tools/run-tests.mjs builds it first) with the test's backend. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, onStart?: (child: ReturnType<typeof spawn>) => void): Promise<CliRun> {
  if (!existsSync(mainScript)) throw new Error(`${mainScript} is missing: build first (node tools/build.mjs)`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mainScript, ...args], {
      cwd: root,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    onStart?.(child);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const backendArgs = () => ['--backend', process.env.ADVX_TEST_BACKEND ?? 'auto'];

function nativeLoads(): boolean {
  try {
    createRequire(import.meta.url)('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

/**
 * The suite's native TensorFlow pass (tools/run-tests.mjs runs it once per backend), for tests that
 * need tfjs-node themselves; the wasm pass skips them without loading it.
 */
export const nativeTensorFlowPass = (): boolean => (process.env.ADVX_TEST_BACKEND ?? 'tensorflow') === 'tensorflow' && nativeLoads();

/**
 * For tests of the coordinator's machinery (retries, failures, --reuse, BullMQ), which do not depend
 * on the backend: the first pass of the suite runs them, the native one, or the wasm one where
 * tfjs-node does not load (it is then the only pass). Repeating them on wasm would only repeat
 * minutes of smoke training.
 */
export const machineryPass = (): boolean => {
  const backend = process.env.ADVX_TEST_BACKEND ?? 'tensorflow';
  return backend === 'tensorflow' ? nativeLoads() : !nativeLoads();
};
