#!/usr/bin/env node
// Measures how TensorFlow's thread settings reach tfjs-node, and whether worker_threads can share it.
//   node tools/native/threads.mjs bench     matMul 2048² timings per thread setting (one child process each)
//   node tools/native/threads.mjs scope     are TF_NUM_INTRAOP_THREADS & co read per TFE context or per process?
//   node tools/native/threads.mjs stress    2 worker_threads × 200 matMul+grad steps at once, then worker churn
// Findings are in tools/native/README.md.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(ROOT, 'package.json'));
const PKG = process.env.ADVX_TFJS_NODE_PACKAGE ?? '@tensorflow/tfjs-node';
const threadCount = () => fs.readdirSync('/proc/self/task').length;

/** Loads tfjs-node in this thread and returns tfjs-core's namespace. */
function loadTf() {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  require(PKG);
  const tf = require('@tensorflow/tfjs-core');
  if (tf.getBackend() !== 'tensorflow') throw new Error(`backend is ${tf.getBackend()}`);
  return tf;
}

/** Mean ms of one 2048×2048 matMul (after one warm-up). */
function timeMatMul(tf, reps = 20, n = 2048) {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  tf.tidy(() => void tf.matMul(a, b).dataSync());
  const times = [];
  let cpu = 0;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    // Nothing returned from tidy: returning dataSync()'s 4M-element array makes tidy walk every
    // element looking for tensors (that alone cost ~3 s per call here).
    tf.tidy(() => void tf.matMul(a, b).dataSync());
    times.push(performance.now() - t);
    const cu = process.cpuUsage(c);
    cpu += (cu.user + cu.system) / 1000;
  }
  times.sort((x, y) => x - y);
  const total = times.reduce((s, x) => s + x, 0);
  // min and median because the machine is shared; cores = CPU time / wall time, i.e. how many
  // cores TensorFlow kept busy.
  return { minMs: +times[0].toFixed(1), medianMs: +times[reps >> 1].toFixed(1), cores: +(cpu / total).toFixed(2) };
}

/** A training-like loop: forward matMul + relu + loss, gradient, SGD update. */
function train(tf, steps, seed) {
  const x = tf.randomNormal([128, 256], 0, 1, 'float32', seed);
  const y = tf.randomNormal([128, 64], 0, 1, 'float32', seed + 1);
  const w1 = tf.variable(tf.randomNormal([256, 256], 0, 0.05, 'float32', seed + 2));
  const w2 = tf.variable(tf.randomNormal([256, 64], 0, 0.05, 'float32', seed + 3));
  let loss = NaN;
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      const f = () => tf.losses.meanSquaredError(y, tf.matMul(tf.relu(tf.matMul(x, w1)), w2));
      const { value, grads } = tf.variableGrads(f, [w1, w2]);
      w1.assign(w1.sub(grads[w1.name].mul(0.05)));
      w2.assign(w2.sub(grads[w2.name].mul(0.05)));
      if (i === steps - 1) loss = value.dataSync()[0];
    });
  }
  return { loss, tensors: tf.memory().numTensors };
}

if (!isMainThread) {
  const { task } = workerData;
  const before = threadCount();
  const tf = loadTf();
  const afterLoad = threadCount();
  if (task === 'time') parentPort.postMessage({ before, afterLoad, ...timeMatMul(tf), after: threadCount() });
  else if (task === 'train') {
    const t = performance.now();
    const r = train(tf, workerData.steps, workerData.seed);
    parentPort.postMessage({ ...r, ms: performance.now() - t });
  }
} else {
  const mode = process.argv[2] ?? 'bench';
  const runWorker = (data, env) =>
    new Promise((resolve, reject) => {
      const w = new Worker(fileURLToPath(import.meta.url), { workerData: data, ...(env ? { env } : {}) });
      let msg;
      w.on('message', (m) => (msg = m));
      w.on('error', reject);
      w.on('exit', (code) => (code === 0 ? resolve(msg) : reject(new Error(`worker exit ${code}`))));
    });

  if (mode === 'bench-child') {
    const before = threadCount();
    const tf = loadTf();
    const afterLoad = threadCount();
    console.log(JSON.stringify({ ...timeMatMul(tf), threadsBefore: before, threadsAfterLoad: afterLoad, threadsAfterRun: threadCount() }));
  } else if (mode === 'bench') {
    const settings = [
      {},
      { TF_NUM_INTRAOP_THREADS: '1' },
      { TF_NUM_INTRAOP_THREADS: '2' },
      { TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' },
      { OMP_NUM_THREADS: '1' },
      { TF_NUM_INTRAOP_THREADS: '1', OMP_NUM_THREADS: '1', TF_ENABLE_ONEDNN_OPTS: '0' },
    ];
    for (const s of settings) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'bench-child'], {
        env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', ...s },
        encoding: 'utf8',
      });
      const out = r.stdout.trim().split('\n').pop();
      console.log(`${JSON.stringify(s).padEnd(90)} ${r.status === 0 ? out : `FAILED ${r.stderr.slice(-300)}`}`);
    }
  } else if (mode === 'scope') {
    // Worker A starts with TF_NUM_INTRAOP_THREADS=1 in its (copied) env, worker B with 2, then the
    // main thread really setenv()s 2 and worker C loads. C code reads the process environ, not
    // Node's per-worker env copies, and TF builds its CPU thread pool once per process.
    const base = threadCount();
    const a = await runWorker({ task: 'time' }, { ...process.env, TF_NUM_INTRAOP_THREADS: '1' });
    console.log(`process started with TF_NUM_INTRAOP_THREADS=${process.env.TF_NUM_INTRAOP_THREADS ?? '(unset)'}; main thread count ${base}`);
    console.log(`worker A (worker env TF_NUM_INTRAOP_THREADS=1): ${JSON.stringify(a)}`);
    const b = await runWorker({ task: 'time' }, { ...process.env, TF_NUM_INTRAOP_THREADS: '2' });
    console.log(`worker B (worker env TF_NUM_INTRAOP_THREADS=2): ${JSON.stringify(b)}`);
    process.env.TF_NUM_INTRAOP_THREADS = process.env.TF_NUM_INTRAOP_THREADS === '1' ? '2' : '1';
    const c = await runWorker({ task: 'time' });
    console.log(`worker C (main thread setenv TF_NUM_INTRAOP_THREADS=${process.env.TF_NUM_INTRAOP_THREADS}): ${JSON.stringify(c)}`);
  } else if (mode === 'stress') {
    const steps = Number(process.argv[3] ?? 200);
    const t = performance.now();
    const solo = await runWorker({ task: 'train', steps, seed: 1 });
    console.log(`1 worker  × ${steps} steps: ${(solo.ms / 1000).toFixed(2)} s, loss ${solo.loss.toFixed(5)}, live tensors ${solo.tensors}`);
    const t2 = performance.now();
    const both = await Promise.all([1, 2].map((seed) => runWorker({ task: 'train', steps, seed })));
    console.log(`2 workers × ${steps} steps concurrently: wall ${((performance.now() - t2) / 1000).toFixed(2)} s; ` +
      both.map((r, i) => `w${i + 1} ${(r.ms / 1000).toFixed(2)} s loss ${r.loss.toFixed(5)}`).join(', '));
    if (both[0].loss !== solo.loss) console.log(`note: concurrent w1 loss differs from solo run (${both[0].loss} vs ${solo.loss})`);
    // Churn: workers that load, train briefly and exit, as a pool with an idle timeout would.
    for (let round = 0; round < 4; round++) {
      await Promise.all([1, 2].map((seed) => runWorker({ task: 'train', steps: 10, seed })));
    }
    console.log(`worker churn: 4 rounds × 2 workers loaded/trained/exited OK; total ${((performance.now() - t) / 1000).toFixed(1)} s; process threads now ${threadCount()}`);
  } else {
    console.error('usage: node tools/native/threads.mjs bench|scope|stress [steps]');
    process.exitCode = 2;
  }
}
