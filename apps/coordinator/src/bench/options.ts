import { Command } from 'commander';
import { availableParallelism } from 'node:os';

import { integerAtLeast, parseCommand, UsageError } from '../support/command-line.js';

/** A maxout net (2 × units × 5 pieces) at a batch size: the bench's further rows (P7's 1,600-unit net, the protocol's batch 100). */
export interface Workload {
  units: number;
  batch: number;
}

/** `240x100,1600x100` → units × batch pairs. */
function parseWorkloads(value: string): Workload[] {
  if (value.trim() === 'none') return [];
  return value.split(',').map((item) => {
    const match = /^\s*(\d+)x(\d+)\s*$/.exec(item);
    const units = match ? Number(match[1]) : 0;
    const batch = match ? Number(match[2]) : 0;
    if (!match || units < 1 || batch < 1) throw new UsageError(`--workloads: '${item.trim()}' is not UNITSxBATCH (e.g. 1600x100); give a comma-separated list, or 'none'`);
    return { units, batch };
  });
}

export interface BenchOptions {
  quick: boolean;
  includeCpu: boolean;
  /** Run the thread and farm sweeps (always in a full run unless --no-sweeps; in --quick only with --farm). */
  sweeps: boolean;
  peer: boolean;
  /** TF_NUM_INTRAOP_THREADS settings for the tensorflow backend and PyTorch's set_num_threads. */
  threads: number[];
  batch: number;
  /** Training steps per timed repetition (one `train` epoch each). */
  steps: number;
  warmup: number;
  reps: number;
  fgsmCount: number;
  fgsmBatch: number;
  /** Further (units, batch) rows, timed on the tensorflow backend and the PyTorch peer at every thread setting. */
  workloads: Workload[];
  /** Steps of the headline training step profiled by kernel on the tensorflow backend (0 = none). */
  profileSteps: number;
  /** n of the n×n SGEMM; 0 skips it. */
  sgemmSize: number;
  sgemmReps: number;
  experiment: string;
  preset: string;
  sweepSeeds: number;
  farmExperiment: string;
  farmPreset: string;
  farmSeeds: number;
  farmWorkers: number;
  /** Backends of the per-backend memory sweeps. */
  memoryBackends: string[];
  sweepBackend: string;
  dataDir: string | undefined;
  python: string;
  outDir: string;
  /** A finished sweep's --out to replay under each scheduling order (bench/replay.ts), instead of the bench. */
  replay: string | undefined;
}

const positiveInt = (flag: string) => integerAtLeast(flag, 1);
const nonNegativeInt = (flag: string) => integerAtLeast(flag, 0);
const intList = (flag: string) => (value: string) => [...new Set(value.split(',').map((v) => positiveInt(flag)(v.trim())))].sort((a, b) => a - b);

export function parseBenchArgs(argv: string[]): BenchOptions | 'help' {
  const cores = availableParallelism();
  const command = new Command('bench')
    .description('Throughput of the maxout net per tfjs backend (train, adversarial train, FGSM, GFLOP/s), a PyTorch peer, and thread/farm sweeps; writes bench/latest.json and bench/latest.md.')
    .option('--quick', 'sanity run: few repetitions, small SGEMM, no sweeps unless --farm', false)
    .option('--include-cpu', 'also time the pure-JS cpu backend (very slow)', false)
    .option('--farm', 'run the thread and farm sweeps in a --quick run too', false)
    .option('--no-sweeps', 'skip the thread and farm sweeps')
    .option('--no-peer', 'skip the PyTorch peer')
    .option('--threads <list>', `TF_NUM_INTRAOP_THREADS settings (and torch threads), default 1,${cores}`, intList('--threads'))
    .option('--batch <n>', 'batch size', positiveInt('--batch'), 128)
    .option('--steps <n>', 'training steps per timed repetition', positiveInt('--steps'))
    .option('--warmup <n>', 'untimed repetitions first', nonNegativeInt('--warmup'))
    .option('--reps <n>', 'timed repetitions (the median is reported)', positiveInt('--reps'))
    .option('--fgsm-count <n>', 'images per FGSM repetition', positiveInt('--fgsm-count'), 1000)
    .option('--fgsm-batch <n>', 'FGSM batch (evaluation units use 500)', positiveInt('--fgsm-batch'), 500)
    .option('--workloads <list>', "further nets as UNITSxBATCH, comma-separated, or 'none' (default 240x100,1600x100: the protocol's batch, P7's net)", parseWorkloads)
    .option('--profile-steps <n>', 'training steps profiled kernel by kernel (0 = no profile)', nonNegativeInt('--profile-steps'))
    .option('--sgemm-size <n>', 'n of the n×n SGEMM peak (0 = skip)', nonNegativeInt('--sgemm-size'))
    .option('--sgemm-reps <n>', 'timed SGEMM repetitions', positiveInt('--sgemm-reps'))
    .option('--experiment <id>', 'experiment of the threads and memory sweeps', 'fgsm-baseline')
    .option('--preset <name>', 'preset of the threads and memory sweeps', 'smoke')
    .option('--sweep-seeds <n>', 'seeds of the threads and memory sweeps (runs 1..n)', positiveInt('--sweep-seeds'), 4)
    .option('--farm-experiment <id>', 'experiment of the farm comparison (real epochs)', 'logistic-3v7')
    .option('--farm-preset <name>', 'preset of the farm comparison', 'cpu')
    .option('--farm-seeds <n>', 'seeds of the farm comparison (runs 1..n)', positiveInt('--farm-seeds'), 16)
    .option('--memory-backends <list>', 'backends of the memory sweeps (the threads workload on the farm)', 'tensorflow,wasm')
    .option('--farm-workers <n>', 'N of the farm comparison', positiveInt('--farm-workers'), Math.max(2, cores))
    .option('--sweep-backend <name>', 'backend of the sweeps', 'tensorflow')
    .option('--data-dir <dir>', 'dataset directory passed to the sweeps (else $MNIST_DIR / the cache)')
    .option('--python <path>', 'Python for the PyTorch peer', process.env.ADVX_PYTHON ?? 'python3')
    .option('--out-dir <dir>', 'where latest.json / latest.md go', 'bench')
    .option('--replay <sweep out dir>', "only replay that finished sweep's units under each scheduling order (with --farm-workers workers); writes replay.md");
  // nx's run-commands forwards flags as `--quick=true`; accept that spelling of the booleans.
  if (parseCommand(command, argv.map((a) => a.replace(/^(--(?:quick|include-cpu|farm))=true$/, '$1'))) === 'help') return 'help';
  const o = command.opts();
  const quick: boolean = o.quick;
  return {
    quick,
    includeCpu: o.includeCpu,
    sweeps: o.sweeps && (!quick || o.farm),
    peer: o.peer,
    threads: o.threads ?? [...new Set([1, cores])],
    batch: o.batch,
    steps: o.steps ?? (quick ? 4 : 20),
    warmup: o.warmup ?? 1,
    reps: o.reps ?? (quick ? 3 : 7),
    fgsmCount: o.fgsmCount,
    fgsmBatch: o.fgsmBatch,
    workloads: o.workloads ?? (quick ? [{ units: 240, batch: 100 }] : [{ units: 240, batch: 100 }, { units: 1600, batch: 100 }]),
    profileSteps: o.profileSteps ?? (quick ? 2 : 10),
    sgemmSize: o.sgemmSize ?? (quick ? 1024 : 4096),
    sgemmReps: o.sgemmReps ?? (quick ? 2 : 5),
    experiment: o.experiment,
    preset: o.preset,
    sweepSeeds: o.sweepSeeds,
    farmExperiment: o.farmExperiment,
    farmPreset: o.farmPreset,
    farmSeeds: o.farmSeeds,
    farmWorkers: o.farmWorkers,
    memoryBackends: String(o.memoryBackends).split(',').map((b) => b.trim()).filter(Boolean),
    sweepBackend: o.sweepBackend,
    dataDir: o.dataDir,
    python: o.python,
    outDir: o.outDir,
    replay: o.replay,
  };
}
