import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isDatasetName, type DatasetName } from '@advx/data';
import { BACKEND_PREFERENCE } from '@advx/models';
import { redisOptions } from '../execution/bullmq/shared.js';
import { integerAtLeast, parseCommand, UsageError } from '../support/command-line.js';
import { EXPERIMENTS, PRESET_NAMES, type PresetName } from '../catalogue/experiments/index.js';
import { claimIdsOf } from '../catalogue/restrict-claims.js';
import { SCHEDULING_ORDERS, type SchedulingOrder } from '../schedule/order.js';
import { checkOutDirectory } from './out-dir.js';
import { resolveThreadsPerUnit, threadsPerWorker } from '../compute/runtime.js';

export interface SweepOptions {
  experiment: string;
  preset: PresetName;
  seeds: number[];
  workers: number;
  /**
   * TensorFlow intra-op threads of each unit (piscina and inline); null with bullmq, whose workers
   * choose their own (`coordinator:worker --threads-per-unit`).
   */
  threadsPerUnit: number | null;
  backend: string;
  out: string;
  dataDir: string | undefined;
  dataset: DatasetName | undefined;
  retries: number;
  unitTimeout: number | undefined;
  /**
   * piscina: worker threads in this process (default); bullmq: jobs on Redis for
   * `coordinator:worker` processes; inline: one unit at a time on this thread (a baseline, and for debugging).
   */
  executor: 'piscina' | 'bullmq' | 'inline';
  redis: string | undefined;
  /** Seconds Redis may stay unreachable (bullmq) before the sweep gives up on it; undefined = the executor's default. */
  redisDeadline: number | undefined;
  /** Output directories of earlier sweeps whose finished units are copied in rather than recomputed. */
  reuse: string[];
  /** Take over a lock on `out` that cannot be checked (another host's). */
  force: boolean;
  /** Run only what these claims need (catalogue/restrict-claims.ts); null = every claim. */
  claims: string[] | null;
  /** Which ready unit a free worker takes (schedule/order.ts). */
  order: SchedulingOrder;
}

/** Seeds that stay distinct in the PRNG's 32-bit seed, with room for ensemble members' offsets. */
export const MAX_SEED = 1_000_000_000;
/** More workers than this is a typo, not a farm: each one is a TensorFlow engine with its own threads. */
export const MAX_WORKERS = 256;

function seedList(value: string): number[] {
  const seeds = value.split(',').map((s) => s.trim());
  if (seeds.some((s) => !/^-?\d+$/.test(s))) throw new InvalidArgumentError(`--seeds must be a comma-separated list of integers, got "${value}"`);
  const numbers = seeds.map(Number);
  const outside = numbers.find((seed) => seed < 0 || seed > MAX_SEED);
  if (outside !== undefined) throw new InvalidArgumentError(`--seeds: ${seeds[numbers.indexOf(outside)]} is outside 0…${MAX_SEED} (the PRNG keeps 32 bits, and ensemble member i uses seed + 1000·i)`);
  if (new Set(numbers).size !== numbers.length) throw new InvalidArgumentError(`--seeds has duplicates: "${value}"`);
  return numbers;
}

export function buildCommand(): Command {
  return new Command('sweep')
    .description('Run an experiment of Goodfellow et al. (2015) over seeds on a worker pool and write report.json / report.md.')
    .addOption(new Option('--experiment <id>', `experiment to run: all (the whole catalogue), ${Object.keys(EXPERIMENTS).join(', ')}`).default('fgsm-baseline'))
    .addOption(new Option('--preset <name>', 'smoke (seconds, for tests) | cpu (2-core budget) | paper (paper settings, GPU)').choices(PRESET_NAMES).default('cpu'))
    .option('--seeds <list>', 'comma-separated seeds, e.g. 1,2,3', seedList)
    .option('--num-seeds <n>', 'use seeds 1..n (ignored when --seeds is given)', integerAtLeast('--num-seeds', 1, 10_000), 5)
    .option('--workers <n>', 'worker threads (one tfjs engine each)', integerAtLeast('--workers', 1, MAX_WORKERS), availableParallelism())
    .option('--threads-per-unit <n>', 'TensorFlow intra-op threads of each unit (default $TF_NUM_INTRAOP_THREADS, else cores ÷ workers, or all cores inline); bitwise-equal numbers need the same value', integerAtLeast('--threads-per-unit', 1))
    .addOption(new Option('--backend <name>', 'tfjs backend; auto tries tensorflow → wasm → cpu').choices(['auto', ...BACKEND_PREFERENCE]).default('auto'))
    .option('--out <dir>', 'output directory (default results/<experiment>); one sweep at a time (sweep.lock)')
    .option('--force', 'take over a lock on --out held by a sweep on another host (or a pid this host reuses)')
    .option('--data-dir <dir>', 'directory holding the dataset files (else $MNIST_DIR, else the user cache)')
    .option('--dataset <name>', 'run the experiment on another dataset of the same shape (mnist, fashion-mnist)')
    .option('--retries <n>', 'extra attempts for a unit whose worker throws or dies', integerAtLeast('--retries', 0), 2)
    .option('--claims <ids>', 'run only the units these claims need, e.g. P6,P8 (same keys as a full sweep, so a later full sweep reuses them)', (v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--reuse <dirs>', "comma-separated output directories of other sweeps whose finished units (same key = same work) are copied in instead of recomputed", (v) => v.split(',').filter(Boolean))
    .option('--unit-timeout <seconds>', 'abort and retry a unit running longer than this', integerAtLeast('--unit-timeout', 1))
    .addOption(
      new Option('--executor <name>', 'piscina: worker threads here | bullmq: BullMQ jobs for `nx run coordinator:worker` processes | inline: one unit at a time in this thread, no workers')
        .choices(['piscina', 'bullmq', 'inline'])
        .default('piscina'),
    )
    .addOption(
      new Option('--order <rule>', 'which ready unit a free worker takes: longest-chain (shortest sweep) | results-first (claims fill in as it runs; an interrupted sweep has more complete seeds) | plan-order')
        .choices([...SCHEDULING_ORDERS])
        .default('longest-chain'),
    )
    .option('--redis <url>', 'Redis server for --executor bullmq, redis://host:port')
    .option('--redis-deadline <seconds>', 'with --executor bullmq: how long Redis may stay unreachable (at the start or mid-sweep) before the units not finished fail (default 60)', integerAtLeast('--redis-deadline', 1));
}

/** Parses argv into validated options; throws UsageError with a one-line message naming the flag. */
export function parseSweepArgs(argv: string[]): SweepOptions | 'help' {
  const command = buildCommand();
  if (parseCommand(command, argv) === 'help') return 'help';
  const o = command.opts();
  if (o.experiment !== 'all' && !(o.experiment in EXPERIMENTS)) throw new UsageError(`--experiment: unknown experiment "${o.experiment}" (known: all, ${Object.keys(EXPERIMENTS).join(', ')})`);
  if (o.claims !== undefined) {
    const selected = o.experiment === 'all' ? Object.values(EXPERIMENTS) : [EXPERIMENTS[o.experiment]];
    const known = claimIdsOf(selected);
    const unknown = (o.claims as string[]).filter((id) => !known.includes(id));
    if (o.claims.length === 0 || unknown.length > 0) throw new UsageError(`--claims: ${o.claims.length === 0 ? 'no claim given' : `unknown claim${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`} for --experiment ${o.experiment} (known: ${known.join(', ')})`);
  }
  if (o.dataset !== undefined && !isDatasetName(o.dataset)) throw new UsageError(`--dataset: unknown dataset "${o.dataset}"`);
  if (o.redis !== undefined) {
    try {
      redisOptions(o.redis);
    } catch (error) {
      throw new UsageError(`--redis: ${(error as Error).message}`);
    }
  }
  if (o.executor === 'bullmq' && o.redis === undefined) throw new UsageError('--redis <url> is required with --executor bullmq');
  if (o.executor !== 'bullmq' && o.redis !== undefined) throw new UsageError('--redis only applies with --executor bullmq');
  if (o.executor !== 'bullmq' && o.redisDeadline !== undefined) throw new UsageError('--redis-deadline only applies with --executor bullmq');
  if (o.executor === 'inline' && command.getOptionValueSource('workers') === 'cli' && o.workers !== 1) throw new UsageError('--workers does not apply to --executor inline, which runs one unit at a time in its own thread');
  if (o.executor === 'inline' && o.unitTimeout !== undefined) throw new UsageError('--unit-timeout does not apply to --executor inline: a unit on the coordinator\'s own thread cannot be stopped');
  if (o.executor === 'bullmq' && o.threadsPerUnit !== undefined) throw new UsageError('--threads-per-unit does not apply to --executor bullmq: give it to each `coordinator:worker` process');
  // Inline, the one unit at a time may use every core; a pool shares them among its workers.
  const threadsPerUnit = o.executor === 'bullmq' ? null : resolveThreadsPerUnit(o.threadsPerUnit, o.executor === 'inline' ? availableParallelism() : threadsPerWorker(o.workers));
  const seeds: number[] = o.seeds ?? Array.from({ length: o.numSeeds }, (_, i) => i + 1);
  const out: string = o.out ?? `results/${o.experiment}`;
  checkOutDirectory(out);
  for (const dir of o.reuse ?? []) if (!existsSync(dir)) throw new UsageError(`--reuse: ${dir} does not exist`);
  return {
    experiment: o.experiment,
    preset: o.preset,
    seeds,
    workers: o.workers,
    threadsPerUnit,
    backend: o.backend,
    out,
    force: o.force === true,
    dataDir: o.dataDir,
    dataset: o.dataset,
    retries: o.retries,
    unitTimeout: o.unitTimeout,
    executor: o.executor,
    redis: o.redis,
    redisDeadline: o.redisDeadline,
    reuse: o.reuse ?? [],
    claims: o.claims ?? null,
    order: o.order,
  };
}
