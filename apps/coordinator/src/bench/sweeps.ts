import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FarmProfile } from '../schedule/farm-profile.js';

/**
 * Whole sweeps through the real CLI (`node dist/apps/coordinator/main.mjs …`), each in a fresh
 * output directory so nothing comes from the run cache. TF_NUM_INTRAOP_THREADS is set in the
 * coordinator's environment, which is the only place TensorFlow reads it (tools/native/README.md).
 */
export interface SweepSpec {
  experiment: string;
  preset: string;
  seeds: number[];
  backend: string;
  dataDir?: string;
}

/** piscina: the farm's worker threads; inline: the same units one at a time on the coordinator's thread. */
export type SweepExecutor = 'piscina' | 'inline';

export interface SweepRun {
  executor: SweepExecutor;
  workers: number;
  tfThreads: number;
  /** report.json wallSeconds: the sweep from data loading to the written report. */
  sweepSeconds: number;
  /** Spawn to exit of the CLI process (adds Node start-up and module loading). */
  processSeconds: number;
  units: number;
  complete: boolean;
  backend: string;
  /** Σ computeSeconds of the units in report.json. */
  computeSeconds: number;
  peakRssMB: number | null;
  /** The sweep's own profile of where its time went (report.json `farm`). */
  profile: FarmProfile | null;
  failures: string[];
}

export async function runSweepOnce(spec: SweepSpec, workers: number, tfThreads: number, mainPath: string, probePath: string, log: (line: string) => void, executor: SweepExecutor = 'piscina'): Promise<SweepRun> {
  if (executor === 'inline' && workers !== 1) throw new Error('an inline sweep has one worker: the coordinator itself');
  const out = await mkdtemp(join(tmpdir(), 'advx-bench-sweep-'));
  const rssFile = join(out, 'rss.json');
  const args = ['--import', probePath, mainPath, '--experiment', spec.experiment, '--preset', spec.preset, '--seeds', spec.seeds.join(','), '--backend', spec.backend, '--out', join(out, 'sweep'), '--retries', '0'];
  args.push(...(executor === 'inline' ? ['--executor', 'inline'] : ['--workers', String(workers)]));
  if (spec.dataDir) args.push('--data-dir', spec.dataDir);
  const env = { ...process.env, TF_NUM_INTRAOP_THREADS: String(tfThreads), TF_NUM_INTEROP_THREADS: '1', OMP_NUM_THREADS: String(tfThreads), ADVX_BENCH_RSS_FILE: rssFile, TF_CPP_MIN_LOG_LEVEL: '2' };
  const where = executor === 'inline' ? 'one process, no workers (inline)' : `${workers} worker(s)`;
  log(`sweep: ${spec.experiment}/${spec.preset} × ${spec.seeds.length} seeds on ${where} × ${tfThreads} TF thread(s), backend ${spec.backend} …`);
  const started = performance.now();
  let hwmKB = 0;
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // Fallback for the probe: poll the coordinator's VmHWM while it runs.
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) hwmKB = Math.max(hwmKB, Number(m[1]));
    } catch {
      /* exited */
    }
  }, 250);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const code: number = await new Promise((done, fail) => {
    child.on('error', fail);
    child.on('exit', (c, signal) => done(c ?? (signal ? 128 : 1)));
  });
  clearInterval(poll);
  const processSeconds = (performance.now() - started) / 1000;
  try {
    const reportPath = join(out, 'sweep', 'report.json');
    if (!existsSync(reportPath)) throw new Error(`sweep exited ${code} without a report: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const report = JSON.parse(await readFile(reportPath, 'utf8')) as {
      wallSeconds: number;
      complete: boolean;
      backend: string;
      runs: { computeSeconds: number | null; status: string }[];
      failures: { role: string; error: string }[];
      farm: FarmProfile | null;
    };
    if (report.runs.some((r) => r.status === 'cached')) throw new Error('a bench sweep used cached units');
    let peakRssMB = hwmKB ? hwmKB / 1024 : null;
    if (existsSync(rssFile)) {
      const probe = JSON.parse(await readFile(rssFile, 'utf8')) as { maxRSSkB: number; vmHWMkB: number | null };
      peakRssMB = Math.max(probe.maxRSSkB, probe.vmHWMkB ?? 0) / 1024;
    }
    const run: SweepRun = {
      executor,
      workers,
      tfThreads,
      sweepSeconds: report.wallSeconds,
      processSeconds,
      units: report.runs.length,
      complete: report.complete && code === 0,
      backend: report.backend,
      computeSeconds: report.runs.reduce((s, r) => s + (r.computeSeconds ?? 0), 0),
      peakRssMB,
      profile: report.farm ?? null,
      failures: report.failures.map((f) => `${f.role}: ${f.error}`),
    };
    log(`sweep: ${executor} ${workers}×${tfThreads}: ${run.sweepSeconds.toFixed(1)} s sweep (${processSeconds.toFixed(1)} s process), ${run.units} units ${run.complete ? 'complete' : 'INCOMPLETE'}, Σcompute ${run.computeSeconds.toFixed(1)} s, peak RSS ${peakRssMB?.toFixed(0) ?? '?'} MB`);
    return run;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

export interface ThreadsSection {
  sweep: SweepSpec;
  /** cores workers × 1 TF thread against 1 worker × cores TF threads. */
  configs: { label: string; workers: number; tfThreads: number; sweepSeconds: number; processSeconds: number; complete: boolean }[];
  faster: string;
  /** The configuration compute/runtime.ts's threadsPerWorker gives for the CLI's default worker count. */
  projectDefault: string;
  defaultIsFaster: boolean;
}

/** One configuration of the farm comparison, with its derived numbers. */
export interface FarmRow {
  label: string;
  run: SweepRun;
  /** Seeds (runs of the experiment) per hour of sweep wall time. */
  runsPerHour: number;
  /** (sweep wall − Σ unit compute ÷ workers) ÷ sweep wall, from the sweep's own profile. */
  overhead: number | null;
}

export interface FarmSection {
  sweep: SweepSpec;
  workers: number;
  /** Single-process baselines: inline at each thread setting, and a 1-worker farm. */
  singles: FarmRow[];
  farm: FarmRow;
  best: FarmRow;
  /** farm runs/hour ÷ best single-process runs/hour (target ≥ 0.9). */
  throughputRatio: number;
  /** 1-worker farm wall ÷ N-worker farm wall, and that ÷ N. */
  speedup: number | null;
  efficiency: number | null;
  /** (peak RSS with N workers − with 1) ÷ (N − 1): what one more worker costs. */
  rssPerExtraWorkerMB: number | null;
  /** Tensors alive after every unit of every sweep, lowest and highest: equal = flat. */
  tensorsAfter: { min: number; max: number } | null;
}

/** Peak RSS, worker heap and tensors per backend on a short farm sweep. */
export interface MemoryRow {
  backend: string;
  run: SweepRun | null;
  error: string | null;
}
