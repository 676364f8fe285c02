import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadsPerWorker } from './compute/runtime.js';
import { stepFlops } from './bench/flops.js';
import { runChild, type ChildResult, type ChildSettings } from './bench/measure.js';
import { parseBenchArgs, type BenchOptions } from './bench/options.js';
import { optionsOrExitCode } from './support/command-line.js';
import { renderMarkdown, type BackendEntry, type BenchReport, type PeerEntry, type PeerWorkload } from './bench/report.js';
import { runSweepOnce, type FarmRow, type FarmSection, type MemoryRow, type SweepExecutor, type SweepRun, type SweepSpec, type ThreadsSection } from './bench/sweeps.js';
import { maxoutSpec, type BackendName } from '@advx/models';
import { writeFileAtomic } from './support/atomic-write.js';
import { renderReplay, replaySweep } from './bench/replay.js';

/**
 * `nx run coordinator:bench [--quick] [--include-cpu] [--farm] …` — see bench/options.ts for flags.
 * The parent process never loads a tfjs backend: each backend × thread setting runs in a child
 * (`bench.mjs --child <settings>`), since backends and TensorFlow's thread pool are process-global.
 */
const RESULT_PREFIX = '@@BENCH ';
const here = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);

interface ChildOutcome {
  result: ChildResult | null;
  error: string | null;
}

function runChildProcess(settings: ChildSettings): Promise<ChildOutcome> {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', TF_NUM_INTEROP_THREADS: '1' };
  if (settings.threads !== null) {
    env.TF_NUM_INTRAOP_THREADS = String(settings.threads);
    env.OMP_NUM_THREADS = String(settings.threads);
  }
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--enable-source-maps', here, '--child', JSON.stringify(settings)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    let pending = '';
    child.stderr.on('data', (c: Buffer) => {
      pending += c.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('[child] ')) log(line.slice(8));
        else if (line.trim()) stderrTail = `${stderrTail}\n${line}`.slice(-2000);
      }
    });
    child.on('error', (error) => done({ result: null, error: error.message }));
    child.on('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) done({ result: JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildResult, error: null });
      else done({ result: null, error: `child exited ${code}: ${(stderrTail + pending).trim().split('\n').slice(-4).join(' | ')}` });
    });
  });
}

async function measureBackends(o: BenchOptions): Promise<Record<string, BackendEntry | { error: string }>> {
  const base = { batch: o.batch, steps: o.steps, warmup: o.warmup, reps: o.reps, fgsmCount: o.fgsmCount, fgsmBatch: o.fgsmBatch, sgemmReps: o.sgemmReps };
  // The further workloads and the kernel profile are the native backend's: the others are the fallback.
  const native = { workloads: o.workloads, profileSteps: o.profileSteps };
  const fallback = { workloads: [], profileSteps: 0 };
  const plan: { backend: BackendName; threads: (number | null)[]; sgemmSize: number; extra: typeof native }[] = [
    { backend: 'tensorflow', threads: o.threads, sgemmSize: o.sgemmSize, extra: native },
    // wasm and cpu ignore TF_NUM_INTRAOP_THREADS; wasm reports its own XNNPACK thread count.
    { backend: 'wasm', threads: [null], sgemmSize: Math.min(o.sgemmSize, 1024), extra: fallback },
  ];
  if (o.includeCpu) plan.push({ backend: 'cpu', threads: [null], sgemmSize: Math.min(o.sgemmSize, 512), extra: fallback });
  const backends: Record<string, BackendEntry | { error: string }> = {};
  for (const { backend, threads, sgemmSize, extra } of plan) {
    const runs: ChildResult[] = [];
    const errors: string[] = [];
    for (const t of threads) {
      log(`${backend}${t !== null ? ` with TF_NUM_INTRAOP_THREADS=${t}` : ''}: starting (${o.warmup} warm-up + ${o.reps} reps × ${o.steps} steps of ${o.batch})`);
      const { result, error } = await runChildProcess({ ...base, ...extra, backend, threads: t, sgemmSize });
      if (result) {
        runs.push(result);
        log(`${backend}${t !== null ? ` ×${t}` : ''}: train ${result.train_ex_s.toFixed(0)} ex/s (${result.gflops.toFixed(1)} GFLOP/s), no-dropout ${result.train_nodrop_ex_s.toFixed(0)}, adv ${result.adv_train_ex_s.toFixed(0)}, FGSM ${result.fgsm_ex_s.toFixed(0)} ex/s` + (result.sgemm ? `, SGEMM ${result.sgemm.size}² ${result.sgemm.best_gflops.toFixed(1)} GFLOP/s` : ''));
      } else {
        errors.push(error!);
        log(`${backend}${t !== null ? ` ×${t}` : ''}: FAILED ${error}`);
      }
    }
    if (runs.length === 0) {
      backends[backend] = { error: errors.join('; ') };
      continue;
    }
    const head = runs.reduce((a, b) => ((b.threads ?? 0) > (a.threads ?? 0) ? b : a));
    backends[backend] = {
      threads: head.threads,
      backendThreads: head.backendThreads,
      train_ex_s: head.train_ex_s,
      adv_train_ex_s: head.adv_train_ex_s,
      fgsm_ex_s: head.fgsm_ex_s,
      gflops: head.gflops,
      train_nodrop_ex_s: head.train_nodrop_ex_s,
      dropout_overhead: head.train_nodrop_ex_s / head.train_ex_s - 1,
      fraction_of_peak: null,
      runs,
    };
  }
  return backends;
}

function torchAvailable(python: string): string | null {
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.error) return `${python} not runnable: ${probe.error.message}`;
  if (probe.status !== 0) return `\`${python} -c 'import torch'\` failed: ${probe.stderr.trim().split('\n').pop()} (install with \`pip install torch\`)`;
  return null;
}

type PeerRun = Omit<PeerEntry, 'gflops' | 'ratios' | 'workloads'>;

/** One torch_peer.py process: the net of `units` at `batch`, `threads` threads. */
function runTorchPeer(o: BenchOptions, threads: number, units: number, batch: number, sgemmSize: number): { run: PeerRun | null; error: string | null } {
  const args = [resolve(root, 'tools/bench/torch_peer.py'), '--threads', String(threads), '--units', String(units), '--batch', String(batch), '--steps', String(o.steps), '--warmup', String(o.warmup), '--reps', String(o.reps), '--fgsm-count', String(o.fgsmCount), '--fgsm-batch', String(o.fgsmBatch), '--sgemm-size', String(sgemmSize), '--sgemm-reps', String(o.sgemmReps)];
  const run = spawnSync(o.python, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) }, maxBuffer: 16 << 20 });
  if (run.status !== 0) return { run: null, error: `torch_peer.py --threads ${threads} --units ${units} --batch ${batch} exited ${run.status}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  return { run: JSON.parse(run.stdout.trim().split('\n').pop()!) as PeerRun, error: null };
}

const div = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? a / b : null);

async function runPeer(o: BenchOptions, tf: BackendEntry | null): Promise<{ peer: Record<string, PeerEntry> | null; reason: string | null }> {
  if (!o.peer) return { peer: null, reason: 'skipped (--no-peer)' };
  const missing = torchAvailable(o.python);
  if (missing) {
    log(`PyTorch peer skipped: ${missing}`);
    return { peer: null, reason: missing };
  }
  const flopsPerExample = stepFlops(maxoutSpec(), 784, 10);
  const peer: Record<string, PeerEntry> = {};
  for (const t of o.threads) {
    log(`PyTorch peer with torch.set_num_threads(${t}): starting`);
    const { run: p, error } = runTorchPeer(o, t, 240, o.batch, o.sgemmSize);
    if (!p) {
      log(`PyTorch peer FAILED: ${error}`);
      return { peer: null, reason: error };
    }
    const mine = tf?.runs.find((r) => r.threads === t) ?? null;
    const workloads: PeerWorkload[] = [];
    for (const w of o.workloads) {
      const { run: pw, error: wError } = runTorchPeer(o, t, w.units, w.batch, 0);
      if (!pw) {
        log(`PyTorch peer FAILED: ${wError}`);
        return { peer: null, reason: wError };
      }
      const ours = mine?.workloads?.find((x) => x.units === w.units && x.batch === w.batch);
      workloads.push({
        ...w,
        train_ex_s: pw.train_ex_s,
        adv_train_ex_s: pw.adv_train_ex_s,
        fgsm_ex_s: pw.fgsm_ex_s,
        ratios: { train: div(ours?.train_ex_s, pw.train_ex_s), adv_train: div(ours?.adv_train_ex_s, pw.adv_train_ex_s), fgsm: div(ours?.fgsm_ex_s, pw.fgsm_ex_s) },
      });
      log(`PyTorch ×${t}, ${w.units} units, batch ${w.batch}: train ${pw.train_ex_s.toFixed(0)} ex/s, adv ${pw.adv_train_ex_s.toFixed(0)}, FGSM ${pw.fgsm_ex_s.toFixed(0)}; tensorflow/PyTorch train ${workloads.at(-1)!.ratios.train?.toFixed(2) ?? '–'}×`);
    }
    peer[`threads${t}`] = {
      ...p,
      gflops: (p.train_ex_s * flopsPerExample.train) / 1e9,
      ratios: {
        train: div(mine?.train_ex_s, p.train_ex_s),
        adv_train: div(mine?.adv_train_ex_s, p.adv_train_ex_s),
        fgsm: div(mine?.fgsm_ex_s, p.fgsm_ex_s),
        sgemm: div(mine?.sgemm?.best_gflops, p.sgemm?.best_gflops),
      },
      workloads,
    };
    log(`PyTorch ×${t}: train ${p.train_ex_s.toFixed(0)} ex/s, adv ${p.adv_train_ex_s.toFixed(0)}, FGSM ${p.fgsm_ex_s.toFixed(0)}` + (p.sgemm ? `, SGEMM ${p.sgemm.best_gflops.toFixed(1)} GFLOP/s` : '') + `; tensorflow/PyTorch train ${peer[`threads${t}`].ratios.train?.toFixed(2) ?? '–'}×`);
  }
  return { peer, reason: null };
}

type Skipped = { skipped: string };

async function runSweeps(o: BenchOptions): Promise<{ threads: ThreadsSection | Skipped; farm: FarmSection | Skipped; memory: MemoryRow[] | Skipped }> {
  if (!o.sweeps) {
    const skipped = o.quick ? 'skipped in --quick (add --farm)' : 'skipped (--no-sweeps)';
    return { threads: { skipped }, farm: { skipped }, memory: { skipped } };
  }
  const spec: SweepSpec = { experiment: o.experiment, preset: o.preset, seeds: Array.from({ length: o.sweepSeeds }, (_, i) => i + 1), backend: o.sweepBackend, dataDir: o.dataDir };
  const mainPath = resolve(root, 'dist/apps/coordinator/main.mjs');
  const probePath = resolve(root, 'tools/bench/rss-probe.mjs');
  const cores = availableParallelism();
  const done = new Map<string, SweepRun>();
  const sweep = async (workers: number, tfThreads: number) => {
    const key = `${workers}x${tfThreads}`;
    if (!done.has(key)) done.set(key, await runSweepOnce(spec, workers, tfThreads, mainPath, probePath, log));
    return done.get(key)!;
  };

  // Threads: 1 worker × all cores against cores workers × 1 thread.
  const a = await sweep(1, cores);
  const b = await sweep(cores, 1);
  const configs = [a, b].map((r) => ({ label: `${r.workers} worker(s) × ${r.tfThreads} TF thread(s)`, workers: r.workers, tfThreads: r.tfThreads, sweepSeconds: r.sweepSeconds, processSeconds: r.processSeconds, complete: r.complete }));
  const fasterRun = a.sweepSeconds <= b.sweepSeconds ? a : b;
  // The CLI's default --workers is availableParallelism(); compute/runtime.ts gives each threadsPerWorker().
  const defaultWorkers = cores;
  const defaultThreads = threadsPerWorker(defaultWorkers);
  const threads: ThreadsSection = {
    sweep: spec,
    configs,
    faster: `${fasterRun.workers} worker(s) × ${fasterRun.tfThreads} TF thread(s)`,
    projectDefault: `${defaultWorkers} worker(s) × ${defaultThreads} TF thread(s)`,
    defaultIsFaster: fasterRun.workers === defaultWorkers && fasterRun.tfThreads === defaultThreads,
  };

  const farm = await farmSection(o, mainPath, probePath, cores);
  // On the threads section's backend and worker count, the memory row reuses the threads section's run.
  const memory = await memorySection(o, (backend) => (backend === spec.backend ? sweep(o.farmWorkers, threadsPerWorker(o.farmWorkers)) : runSweepOnce({ ...spec, backend }, o.farmWorkers, threadsPerWorker(o.farmWorkers), mainPath, probePath, log)));
  log(`threads: faster ${threads.faster}; project default ${threads.projectDefault} (${threads.defaultIsFaster ? 'agrees' : 'DISAGREES'})`);
  return { threads, farm, memory };
}

/**
 * The same seeds of a small preset with real epochs, swept by the farm with N workers and in a
 * single process: inline (no workers at all) at each thread setting, and a 1-worker farm.
 */
async function farmSection(o: BenchOptions, mainPath: string, probePath: string, cores: number): Promise<FarmSection> {
  const spec: SweepSpec = { experiment: o.farmExperiment, preset: o.farmPreset, seeds: Array.from({ length: o.farmSeeds }, (_, i) => i + 1), backend: o.sweepBackend, dataDir: o.dataDir };
  // Runs per hour count seeds (runs of the experiment) per hour of sweep wall time; an incomplete sweep counts none.
  const row = (label: string, run: SweepRun): FarmRow => ({ label, run, runsPerHour: run.complete ? (3600 / run.sweepSeconds) * spec.seeds.length : 0, overhead: run.profile?.overheadFraction ?? null });
  const n = o.farmWorkers;
  const once = (workers: number, threads: number, executor: SweepExecutor) => runSweepOnce(spec, workers, threads, mainPath, probePath, log, executor);
  const singles: FarmRow[] = [];
  for (const threads of [...new Set([1, cores])]) singles.push(row(`single process, inline × ${threads} TF thread(s)`, await once(1, threads, 'inline')));
  const oneWorker = row(`farm, 1 worker × ${threadsPerWorker(1)} TF thread(s)`, await once(1, threadsPerWorker(1), 'piscina'));
  singles.push(oneWorker);
  const farm = row(`farm, ${n} workers × ${threadsPerWorker(n)} TF thread(s)`, await once(n, threadsPerWorker(n), 'piscina'));
  const best = singles.reduce((a, b) => (b.runsPerHour > a.runsPerHour ? b : a));
  const profiles = [...singles, farm].map((r) => r.run.profile);
  const tensors = profiles.every((p) => p?.tensorsAfter) ? profiles.map((p) => p!.tensorsAfter!) : null;
  const section: FarmSection = {
    sweep: spec,
    workers: n,
    singles,
    farm,
    best,
    throughputRatio: farm.runsPerHour / best.runsPerHour,
    speedup: oneWorker.run.complete && farm.run.complete ? oneWorker.run.sweepSeconds / farm.run.sweepSeconds : null,
    efficiency: oneWorker.run.complete && farm.run.complete ? oneWorker.run.sweepSeconds / farm.run.sweepSeconds / n : null,
    rssPerExtraWorkerMB: n > 1 && farm.run.peakRssMB !== null && oneWorker.run.peakRssMB !== null ? (farm.run.peakRssMB - oneWorker.run.peakRssMB) / (n - 1) : null,
    tensorsAfter: tensors ? { min: Math.min(...tensors.map((t) => t.min)), max: Math.max(...tensors.map((t) => t.max)) } : null,
  };
  log(`farm: ${farm.runsPerHour.toFixed(0)} runs/h against the best single process's ${best.runsPerHour.toFixed(0)} (${best.label}): ${(section.throughputRatio * 100).toFixed(0)}%; overhead ${((farm.overhead ?? NaN) * 100).toFixed(1)}%`);
  return section;
}

/** The threads sweep's workload on the farm once per backend: peak RSS, worker heap, tensors after each unit. */
async function memorySection(o: BenchOptions, farmSweep: (backend: string) => Promise<SweepRun>): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (const backend of o.memoryBackends) {
    try {
      const run = await farmSweep(backend);
      rows.push({ backend, run, error: null });
    } catch (error) {
      rows.push({ backend, run: null, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return rows;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--child') {
    const result = await runChild(JSON.parse(argv[1]) as ChildSettings, (line) => process.stderr.write(`[child] ${line}\n`));
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
    return 0;
  }
  const o = optionsOrExitCode('bench', () => parseBenchArgs(argv));
  if (typeof o === 'number') return o;
  if (o.replay) {
    const markdown = renderReplay(await replaySweep(resolve(o.replay), o.farmWorkers));
    await writeFileAtomic(resolve(o.outDir, 'replay.md'), markdown);
    process.stdout.write(markdown);
    return 0;
  }

  const started = performance.now();
  const loadStart = loadavg();
  log(`${o.quick ? 'QUICK sanity run' : 'full run'}: ${availableParallelism()} cores, threads ${o.threads.join(',')}, load average ${loadStart.map((x) => x.toFixed(2)).join(' ')}`);
  const backends = await measureBackends(o);
  const tf = backends.tensorflow && !('error' in backends.tensorflow) ? backends.tensorflow : null;
  const peakRun = tf?.runs.reduce((a, b) => ((b.threads ?? 0) > (a.threads ?? 0) ? b : a));
  // A peak is a peak: the best SGEMM over the thread settings (normally the all-cores one).
  const sgemms = tf?.runs.flatMap((r) => (r.sgemm ? [r.sgemm.best_gflops] : [])) ?? [];
  const peak_gflops = sgemms.length > 0 ? Math.max(...sgemms) : null;
  for (const entry of Object.values(backends)) if (!('error' in entry) && peak_gflops) entry.fraction_of_peak = entry.gflops / peak_gflops;
  const { peer, reason } = await runPeer(o, tf);
  const { threads, farm, memory } = await runSweeps(o);

  const torchVersion = peer ? Object.values(peer)[0]?.torch : undefined;
  const report: BenchReport = {
    quick: o.quick,
    note: o.quick ? `Quick sanity run (${o.reps} reps × ${o.steps} steps, ${o.sgemmSize}² SGEMM): not a measurement; run without --quick on a quiet machine` : null,
    machine: {
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? null,
      totalMemGB: +(totalmem() / 2 ** 30).toFixed(1),
      platform: `${process.platform}-${process.arch}`,
      node: process.version,
      tfjs: peakRun?.versions['tfjs-core'] ?? null,
      tensorflow: peakRun?.versions.tensorflow ?? null,
      torch: torchVersion ?? null,
      loadavgStart: loadStart,
      loadavgEnd: loadavg(),
    },
    settings: { batch: o.batch, steps: o.steps, warmup: o.warmup, reps: o.reps, fgsmCount: o.fgsmCount, fgsmBatch: o.fgsmBatch, sgemmSize: o.sgemmSize, sgemmReps: o.sgemmReps, threads: o.threads, flopsPerExample: stepFlops(maxoutSpec(), 784, 10), seconds: 0 },
    backends,
    peak_gflops,
    peak: tf && peakRun?.sgemm ? { size: peakRun.sgemm.size, byThreads: Object.fromEntries(tf.runs.filter((r) => r.sgemm).map((r) => [String(r.threads), r.sgemm!.best_gflops])) } : null,
    peer,
    peer_reason: reason,
    threads,
    farm,
    memory,
    generatedAt: new Date().toISOString(),
  };
  const seconds = (performance.now() - started) / 1000;
  report.settings.seconds = seconds;
  const outDir = resolve(o.outDir);
  await writeFileAtomic(resolve(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(resolve(outDir, 'latest.md'), renderMarkdown(report));
  log(`wrote ${resolve(outDir, 'latest.json')} and latest.md in ${seconds.toFixed(0)} s`);
  const failed = Object.entries(backends).filter(([, e]) => 'error' in e).map(([n]) => n);
  return failed.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`advx bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
