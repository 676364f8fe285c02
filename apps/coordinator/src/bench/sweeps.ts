import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

export interface SweepRun {
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
  failures: string[];
}

export async function runSweepOnce(spec: SweepSpec, workers: number, tfThreads: number, mainPath: string, probePath: string, log: (line: string) => void): Promise<SweepRun> {
  const out = await mkdtemp(join(tmpdir(), 'advx-bench-sweep-'));
  const rssFile = join(out, 'rss.json');
  const args = ['--import', probePath, mainPath, '--experiment', spec.experiment, '--preset', spec.preset, '--seeds', spec.seeds.join(','), '--workers', String(workers), '--backend', spec.backend, '--out', join(out, 'sweep'), '--retries', '0'];
  if (spec.dataDir) args.push('--data-dir', spec.dataDir);
  const env = { ...process.env, TF_NUM_INTRAOP_THREADS: String(tfThreads), TF_NUM_INTEROP_THREADS: '1', OMP_NUM_THREADS: String(tfThreads), ADVX_BENCH_RSS_FILE: rssFile, TF_CPP_MIN_LOG_LEVEL: '2' };
  log(`sweep: ${spec.experiment}/${spec.preset} × ${spec.seeds.length} seeds on ${workers} worker(s) × ${tfThreads} TF thread(s) …`);
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
    };
    if (report.runs.some((r) => r.status === 'cached')) throw new Error('a bench sweep used cached units');
    let peakRssMB = hwmKB ? hwmKB / 1024 : null;
    if (existsSync(rssFile)) {
      const probe = JSON.parse(await readFile(rssFile, 'utf8')) as { maxRSSkB: number; vmHWMkB: number | null };
      peakRssMB = Math.max(probe.maxRSSkB, probe.vmHWMkB ?? 0) / 1024;
    }
    const run: SweepRun = {
      workers,
      tfThreads,
      sweepSeconds: report.wallSeconds,
      processSeconds,
      units: report.runs.length,
      complete: report.complete && code === 0,
      backend: report.backend,
      computeSeconds: report.runs.reduce((s, r) => s + (r.computeSeconds ?? 0), 0),
      peakRssMB,
      failures: report.failures.map((f) => `${f.role}: ${f.error}`),
    };
    log(`sweep: ${workers}×${tfThreads}: ${run.sweepSeconds.toFixed(1)} s sweep (${processSeconds.toFixed(1)} s process), ${run.units} units ${run.complete ? 'complete' : 'INCOMPLETE'}, Σcompute ${run.computeSeconds.toFixed(1)} s, peak RSS ${peakRssMB?.toFixed(0) ?? '?'} MB`);
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
  /** The configuration executor.ts's threadsPerWorker gives for the CLI's default worker count. */
  projectDefault: string;
  defaultIsFaster: boolean;
}

export interface FarmSection {
  sweep: SweepSpec;
  workers: number;
  /** 1 worker at the default thread count (all cores) and N workers at cores ÷ N: what users get. */
  single: SweepRun;
  farm: SweepRun;
  speedup: number;
  efficiency: number;
  /** Same threads per worker (1) for 1 and N workers: scaling of the farm alone. */
  singleFixedThreads: SweepRun | null;
  speedupFixedThreads: number | null;
  efficiencyFixedThreads: number | null;
  /** (sweep wall − Σ unit computeSeconds ÷ workers) ÷ sweep wall, for each run. */
  overhead: { single: number; farm: number; singleFixedThreads: number | null };
  peakRssMB: { single: number | null; farm: number | null };
  /** The unit runner throws on a leaked tensor, so complete sweeps mean flat tensor counts. */
  tensorsFlat: boolean;
}

export const overheadFraction = (r: SweepRun) => (r.sweepSeconds - r.computeSeconds / r.workers) / r.sweepSeconds;
