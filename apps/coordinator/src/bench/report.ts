import type { ChildResult } from './measure.js';
import type { Workload } from './options.js';
import type { FarmProfile } from '../schedule/farm-profile.js';
import type { FarmSection, MemoryRow, ThreadsSection } from './sweeps.js';

export interface BackendEntry {
  /** Headline numbers: the run with the most TF threads (all cores by default). */
  threads: number | null;
  backendThreads: number | null;
  train_ex_s: number;
  adv_train_ex_s: number;
  fgsm_ex_s: number;
  gflops: number;
  /** Same training step without dropout (masks of ones): the cost of drawing/uploading masks. */
  train_nodrop_ex_s: number;
  /** time(train with dropout) ÷ time(train without) − 1. */
  dropout_overhead: number;
  /** gflops ÷ peak_gflops (the machine's SGEMM peak). */
  fraction_of_peak: number | null;
  /** Every child run of this backend, one per thread setting, with timings and tensor counts. */
  runs: ChildResult[];
}

export interface PeerEntry {
  torch: string;
  threads: number;
  train_ex_s: number;
  adv_train_ex_s: number;
  fgsm_ex_s: number;
  gflops: number;
  sgemm: { size: number; best_gflops: number; median_gflops: number } | null;
  /** tensorflow backend at the same TF_NUM_INTRAOP_THREADS ÷ PyTorch (> 1 = tfjs faster). */
  ratios: { train: number | null; adv_train: number | null; fgsm: number | null; sgemm: number | null };
  timings: Record<string, unknown>;
  /** The further workloads (bench/options.ts) at these threads. */
  workloads: PeerWorkload[];
}

export interface PeerWorkload extends Workload {
  train_ex_s: number;
  adv_train_ex_s: number;
  fgsm_ex_s: number;
  /** tensorflow at the same threads ÷ PyTorch. */
  ratios: { train: number | null; adv_train: number | null; fgsm: number | null };
}

export interface BenchReport {
  quick: boolean;
  note: string | null;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  backends: Record<string, BackendEntry | { error: string }>;
  /** Best n×n SGEMM GFLOP/s on the tensorflow backend over the thread settings. */
  peak_gflops: number | null;
  peak: { size: number; byThreads: Record<string, number> } | null;
  peer: Record<string, PeerEntry> | null;
  peer_reason: string | null;
  threads: ThreadsSection | { skipped: string };
  farm: FarmSection | { skipped: string };
  memory: MemoryRow[] | { skipped: string };
  generatedAt: string;
}

const run_batch = (r: BenchReport) => (r.settings as { batch: number }).batch;
const num = (x: number | null | undefined, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ratio = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(2)}×`);
const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(1)}%`);

export function renderMarkdown(r: BenchReport): string {
  const lines: string[] = ['# advx bench', ''];
  if (r.note) lines.push(`> **${r.note}**`, '');
  const m = r.machine as { cpuModel?: string; cpus?: number; node?: string; tensorflow?: string; tfjs?: string; torch?: string; loadavgStart?: number[]; loadavgEnd?: number[] };
  lines.push(
    `Generated ${r.generatedAt}. Machine: ${m.cpus} × ${m.cpuModel ?? '?'}; Node ${m.node}; tfjs ${m.tfjs ?? '?'}; TensorFlow ${m.tensorflow ?? '–'}; PyTorch ${m.torch ?? '–'}. ` +
      `Load average at start ${m.loadavgStart?.map((x) => x.toFixed(2)).join(' / ')}, at end ${m.loadavgEnd?.map((x) => x.toFixed(2)).join(' / ')}.`,
    '',
  );
  const s = r.settings as { batch: number; steps: number; warmup: number; reps: number; fgsmCount: number; fgsmBatch: number; sgemmSize: number };
  lines.push(
    `Maxout net 784 → 240×5 → 240×5 → 10, dropout .8/.5, momentum SGD, max-norm 1.9365, batch ${s.batch}; examples/s are medians of ${s.reps} timed repetitions ` +
      `(${s.steps} steps each, after ${s.warmup} warm-up) of the project's own \`train\` and \`fgsm\`. FGSM: ε = .25 on ${s.fgsmCount} images in batches of ${s.fgsmBatch}. ` +
      `Adversarial training: α = .5, ε = .25, the FGSM crafted on the dropout net. GFLOP/s counts forward + backward matMul FLOPs only; peak = best ${s.sgemmSize}² SGEMM on the tensorflow backend over the thread settings.`,
    '',
  );

  // One column per backend run (tensorflow per thread count), then PyTorch per thread count, then ratios.
  type Col = { title: string; get: (row: string) => string };
  const cols: Col[] = [];
  for (const [name, entry] of Object.entries(r.backends)) {
    if ('error' in entry) {
      cols.push({ title: name, get: () => 'failed' });
      continue;
    }
    for (const run of entry.runs) {
      const label = name === 'wasm' ? `wasm (${run.backendThreads ?? '?'} thr)` : `${name} ×${run.threads ?? 'default'}`;
      cols.push({
        title: label,
        get: (row) => {
          switch (row) {
            case 'train': return num(run.train_ex_s);
            case 'nodrop': return num(run.train_nodrop_ex_s);
            case 'dropcost': return pct(run.timings.train.median > 0 ? run.train_nodrop_ex_s / run.train_ex_s - 1 : null);
            case 'masks': return `${num(run.mask_ms_per_step, 2)} ms of ${num((1000 * run_batch(r)) / run.train_ex_s, 1)} ms`;
            case 'adv': return num(run.adv_train_ex_s);
            case 'fgsm': return num(run.fgsm_ex_s);
            case 'gflops': return num(run.gflops, 1);
            case 'sgemm': return run.sgemm ? `${num(run.sgemm.best_gflops, 1)} (${run.sgemm.size}²)` : '–';
            case 'peak': return pct(r.peak_gflops ? run.gflops / r.peak_gflops : null);
            case 'peakT': return pct(run.sgemm ? run.gflops / run.sgemm.best_gflops : null);
            default: return '';
          }
        },
      });
    }
  }
  for (const [key, p] of Object.entries(r.peer ?? {})) {
    cols.push({
      title: `PyTorch ×${p.threads}`,
      get: (row) => {
        switch (row) {
          case 'train': return num(p.train_ex_s);
          case 'adv': return num(p.adv_train_ex_s);
          case 'fgsm': return num(p.fgsm_ex_s);
          case 'gflops': return num(p.gflops, 1);
          case 'sgemm': return p.sgemm ? `${num(p.sgemm.best_gflops, 1)} (${p.sgemm.size}²)` : '–';
          case 'peak': return pct(r.peak_gflops ? p.gflops / r.peak_gflops : null);
          case 'peakT': return pct(p.sgemm ? p.gflops / p.sgemm.best_gflops : null);
          default: return '–';
        }
      },
    });
    void key;
  }
  for (const p of Object.values(r.peer ?? {})) {
    cols.push({
      title: `tensorflow/PyTorch ×${p.threads}`,
      get: (row) => {
        switch (row) {
          case 'train': return ratio(p.ratios.train);
          case 'adv': return ratio(p.ratios.adv_train);
          case 'fgsm': return ratio(p.ratios.fgsm);
          case 'gflops': return ratio(p.ratios.train);
          case 'sgemm': return ratio(p.ratios.sgemm);
          default: return '';
        }
      },
    });
  }
  const rows: [string, string][] = [
    ['train', '(a) train step with dropout, ex/s'],
    ['nodrop', 'train step without dropout, ex/s'],
    ['dropcost', 'dropout cost (time, vs without)'],
    ['masks', 'PRNG mask drawing per step (of step time)'],
    ['adv', '(b) adversarial-training step, ex/s'],
    ['fgsm', '(c) FGSM, ex/s'],
    ['gflops', '(a) GFLOP/s'],
    ['sgemm', 'SGEMM GFLOP/s, same threads'],
    ['peak', '(a) as % of machine peak'],
    ['peakT', '(a) as % of SGEMM at same threads'],
  ];
  lines.push('## Throughput', '');
  lines.push(`| | ${cols.map((c) => c.title).join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`);
  for (const [key, title] of rows) lines.push(`| ${title} | ${cols.map((c) => c.get(key)).join(' | ')} |`);
  lines.push('', `Machine SGEMM peak: **${num(r.peak_gflops, 1)} GFLOP/s**${r.peak ? ` (${r.peak.size}², tensorflow backend; by threads: ${Object.entries(r.peak.byThreads).map(([t, g]) => `×${t} ${num(g, 1)}`).join(', ')})` : ''}.`);
  if (!r.peer) lines.push('', `PyTorch peer: not run (${r.peer_reason ?? 'unknown reason'}).`);
  lines.push('');

  lines.push(...workloadSection(r), ...profileSection(r));

  lines.push('## Threads: 1 worker × all TF threads vs workers × 1 TF thread', '');
  if ('skipped' in r.threads) lines.push(`Skipped: ${r.threads.skipped}.`, '');
  else {
    const t = r.threads;
    lines.push(`${t.sweep.seeds.length} seeds of \`--experiment ${t.sweep.experiment} --preset ${t.sweep.preset}\` through the CLI, backend ${t.sweep.backend}, fresh \`--out\` each.`, '');
    lines.push('| configuration | sweep wall s | process wall s | complete |', '|---|---:|---:|---|');
    for (const c of t.configs) lines.push(`| ${c.label} | ${num(c.sweepSeconds, 1)} | ${num(c.processSeconds, 1)} | ${c.complete ? 'yes' : 'NO'} |`);
    lines.push('', `Faster: **${t.faster}**. Project default (compute/runtime.ts \`threadsPerWorker\` with the CLI's default workers): ${t.projectDefault} — ${t.defaultIsFaster ? 'agrees with the measurement' : '**disagrees with the measurement**'}.`, '');
  }

  lines.push('## Farm', '');
  if ('skipped' in r.farm) lines.push(`Skipped: ${r.farm.skipped}.`, '');
  else lines.push(...farmLines(r.farm));

  lines.push('## Memory and tensors per backend', '');
  if ('skipped' in r.memory) lines.push(`Skipped: ${r.memory.skipped}.`, '');
  else lines.push(...memoryLines(r.memory));
  return lines.join('\n');
}

function profileCells(p: FarmProfile | null): string {
  if (!p) return '– | – | – | – | –';
  const b = p.breakdown;
  return [b.dataLoad, b.workerStart, b.handoff, b.coordinator, b.tail].map((x) => num(x, 2)).join(' | ');
}

function farmLines(f: FarmSection): string[] {
  const s = f.sweep;
  const lines = [
    `${s.seeds.length} seeds of \`--experiment ${s.experiment} --preset ${s.preset}\` (real epochs), backend ${s.backend}, fresh \`--out\` each. ` +
      'Runs/h = seeds ÷ sweep wall. Overhead = (sweep wall − Σ unit compute ÷ workers) ÷ sweep wall, split by the sweep’s own profile (report.json `farm`, seconds per worker).',
    '',
    '| configuration | sweep wall s | Σ compute s | runs/h | overhead | data load | worker start | hand-offs | coordinator | tail | peak RSS MB | complete |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of [...f.singles, f.farm]) {
    const x = row.run;
    lines.push(`| ${row.label} | ${num(x.sweepSeconds, 1)} | ${num(x.computeSeconds, 1)} | ${num(row.runsPerHour)} | ${pct(row.overhead)} | ${profileCells(x.profile)} | ${num(x.peakRssMB)} | ${x.complete ? 'yes' : 'NO'} |`);
  }
  const target = (ok: boolean) => (ok ? 'met' : '**not met**');
  lines.push(
    '',
    `- Throughput: the ${f.workers}-worker farm does ${num(f.farm.runsPerHour)} runs/h, ${pct(f.throughputRatio)} of the best single process (${f.best.label}, ${num(f.best.runsPerHour)} runs/h); target ≥ 90%: ${target(f.throughputRatio >= 0.9)}.`,
    `- Farm overhead: ${pct(f.farm.overhead)} of the sweep; target < 5%: ${target(f.farm.overhead !== null && f.farm.overhead < 0.05)}.`,
    `- Speed-up over a 1-worker farm: ${f.speedup === null ? '–' : ratio(f.speedup)}, efficiency ${pct(f.efficiency)}.`,
    `- Memory: one more worker costs ${f.rssPerExtraWorkerMB === null ? '–' : `${num(f.rssPerExtraWorkerMB)} MB`} of peak RSS (the dataset is shared, not copied per worker).`,
    `- Tensors alive after each unit, over every sweep above: ${f.tensorsAfter ? `${f.tensorsAfter.min}–${f.tensorsAfter.max} (${f.tensorsAfter.min === f.tensorsAfter.max ? 'flat' : '**not flat**'})` : '–'}.`,
    '',
  );
  return lines;
}

function memoryLines(rows: MemoryRow[]): string[] {
  const lines = ['The threads section’s workload on the farm, once per backend. Heap and tensors are each worker’s own after each unit; RSS is the whole process (workers are threads of it).', '', '| backend | workers | sweep wall s | peak RSS MB | peak worker heap MB | tensors after each unit | complete |', '|---|---:|---:|---:|---:|---|---|'];
  for (const { backend, run, error } of rows) {
    if (!run) {
      lines.push(`| ${backend} | – | – | – | – | – | failed: ${error} |`);
      continue;
    }
    const t = run.profile?.tensorsAfter;
    lines.push(`| ${run.backend} | ${run.workers} | ${num(run.sweepSeconds, 1)} | ${num(run.peakRssMB)} | ${num(run.profile?.peakHeapUsedMB ?? null)} | ${t ? `${t.min}–${t.max} (${t.min === t.max ? 'flat' : 'NOT flat'})` : '–'} | ${run.complete ? 'yes' : 'NO'} |`);
  }
  lines.push('');
  return lines;
}

type TfRun = ChildResult;

function tfRuns(r: BenchReport): TfRun[] {
  const tf = r.backends.tensorflow;
  return tf && !('error' in tf) ? tf.runs : [];
}

/** The headline net and the further workloads, on tensorflow and PyTorch per thread count, with 2-thread scaling. */
function workloadSection(r: BenchReport): string[] {
  const runs = tfRuns(r);
  const peers = Object.values(r.peer ?? {});
  if (runs.length === 0) return [];
  const headline: Workload = { units: 240, batch: run_batch(r) };
  const workloads: Workload[] = [headline, ...(runs[0].workloads ?? []).map(({ units, batch }) => ({ units, batch }))];
  type Measure = 'train_ex_s' | 'adv_train_ex_s' | 'fgsm_ex_s';
  const measures: [Measure, string][] = [
    ['train_ex_s', 'train'],
    ['adv_train_ex_s', 'adversarial train'],
    ['fgsm_ex_s', 'FGSM'],
  ];
  const same = (w: Workload) => (x: Workload) => x.units === w.units && x.batch === w.batch;
  const ours = (run: TfRun, w: Workload, m: Measure) => (w === headline ? run[m] : run.workloads?.find(same(w))?.[m]);
  const theirs = (p: PeerEntry, w: Workload, m: Measure) => (w === headline ? p[m] : p.workloads?.find(same(w))?.[m]);
  const threads = runs.map((run) => run.threads);
  const header = [
    ...runs.map((run) => `TF ×${run.threads}`),
    ...peers.map((p) => `PyTorch ×${p.threads}`),
    ...peers.map((p) => `TF/PyTorch ×${p.threads}`),
    ...(threads.length > 1 ? [`TF ×${threads.at(-1)}/×${threads[0]}`] : []),
    ...(peers.length > 1 ? [`PyTorch ×${peers.at(-1)!.threads}/×${peers[0].threads}`] : []),
  ];
  const lines = ['## Workloads: the paper\'s nets at the protocol\'s batch', '', 'examples/s (medians, as above); the last columns are what a second thread adds.', ''];
  lines.push(`| net, batch | step | ${header.join(' | ')} |`, `|---|---|${header.map(() => '---:').join('|')}|`);
  for (const w of workloads) {
    for (const [m, label] of measures) {
      const tfValues = runs.map((run) => ours(run, w, m));
      const peerValues = peers.map((p) => theirs(p, w, m));
      const cells = [
        ...tfValues.map((v) => num(v)),
        ...peerValues.map((v) => num(v)),
        ...peers.map((p, i) => {
          const tfValue = tfValues[runs.findIndex((run) => run.threads === p.threads)];
          return ratio(tfValue !== undefined && peerValues[i] ? tfValue / peerValues[i]! : null);
        }),
        ...(threads.length > 1 ? [ratio(tfValues.at(-1) && tfValues[0] ? tfValues.at(-1)! / tfValues[0]! : null)] : []),
        ...(peers.length > 1 ? [ratio(peerValues.at(-1) && peerValues[0] ? peerValues.at(-1)! / peerValues[0]! : null)] : []),
      ];
      lines.push(`| 2×${w.units}×5, ${w.batch} | ${label} | ${cells.join(' | ')} |`);
    }
  }
  lines.push('');
  return lines;
}

/** Where the headline training step's time goes, per TF thread count (bench/profile.ts). */
function profileSection(r: BenchReport): string[] {
  const runs = tfRuns(r).filter((run) => run.profile);
  if (runs.length === 0) return [];
  const rows: [string, (p: NonNullable<TfRun['profile']>) => string][] = [
    ['matMul (forward, ∂W, ∂x)', (p) => num(p.groups.matMul, 2)],
    ['maxout (max over pieces and its gradient)', (p) => num(p.groups.maxout, 2)],
    ['weights (momentum, update, max-norm, bias sums)', (p) => num(p.groups.weights, 2)],
    ['other kernels (dropout, bias, loss, batch slices)', (p) => num(p.groups.other, 2)],
    ['all kernels', (p) => num(p.kernelMs, 2)],
    ['rest of the step (JS, per-op dispatch)', (p) => num(Math.max(0, p.stepMs - p.kernelMs), 2)],
    ['step, unprofiled', (p) => num(p.stepMs, 2)],
    ['kernel calls per step', (p) => num(p.calls)],
  ];
  const lines = ['## Where a training step goes (tensorflow, ms per step of the headline net)', ''];
  lines.push(`| | ${runs.map((run) => `TF ×${run.threads}`).join(' | ')} |`, `|---|${runs.map(() => '---:').join('|')}|`);
  for (const [title, get] of rows) lines.push(`| ${title} | ${runs.map((run) => get(run.profile!)).join(' | ')} |`);
  lines.push('', `Costliest kernels (ms per step${runs.length > 1 ? `, ×${runs[0].threads} → ×${runs.at(-1)!.threads}` : ''}):`, '');
  const first = runs[0].profile!;
  const last = runs.at(-1)!.profile!;
  lines.push('| kernel | input shapes | calls/step | ms |', '|---|---|---:|---:|');
  for (const k of first.top) {
    const other = runs.length > 1 ? last.top.find((x) => x.kernel === k.kernel && x.shapes === k.shapes) : undefined;
    lines.push(`| ${k.kernel} | ${k.shapes} | ${num(k.callsPerStep, 0)} | ${num(k.ms, 3)}${other ? ` → ${num(other.ms, 3)}` : ''} |`);
  }
  lines.push('');
  return lines;
}
