// The integrity of everything cached (issue 17): result.json is checked against its schema and key,
// every file a result records (a model, crafted examples) against its SHA-256, in the runs
// directory, in --reuse directories and when a unit reads them. Real corruptions of a small sweep
// run in-process through the same handlers the workers run: each is reported once, naming the
// file, and recomputed (with the units that read it), ending with the numbers of an uncorrupted run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '@advx/data';
import { kernelThreads, softmaxRegressionSpec, type BackendName } from '@advx/models';
import { runUnit, type WorkerContext } from '../src/compute/run-unit.js';
import type { Executor } from '../src/schedule/executor.js';
import { runUnits } from '../src/schedule/scheduler.js';
import type { UnitStatus } from '../src/schedule/status.js';
import { shareSplits } from '../src/compute/shared-data.js';
import { craftedPath, modelDirectory, resultPath } from '../src/units/files.js';
import { CorruptArtifactError, corruptProducer, sha256, unitFilesIntact } from '../src/units/integrity.js';
import { unitKey } from '../src/units/key.js';
import { checkResult } from '../src/units/schema.js';
import { RunStore } from '../src/units/store.js';
import type { AttackSpec, DatasetRef, Unit, UnitConfig, UnitOutput, UnitResult } from '../src/units/types.js';
import { mnistDir } from './helpers.js';

const VALIDATION = 1000;

const unit = (role: string, config: UnitConfig, dependsOn: string[] = []): Unit => ({ key: unitKey(config), role, seed: 1, config, dependsOn });

/** A small sweep: a softmax model, examples crafted on it, an evaluation reading them and one crafting its own. */
function smallSweep(checksum: string): { units: Unit[]; train: Unit; craft: Unit; viaCraft: Unit; direct: Unit } {
  const dataset: DatasetRef = { name: 'mnist', checksum, trainCount: 1000, testCount: 600, validationSize: VALIDATION, classes: null };
  const attack: AttackSpec = { kind: 'fgsm', eps: 0.25, clip: true };
  const train = unit('softmax', {
    kind: 'train',
    dataset: { ...dataset, testCount: null },
    model: softmaxRegressionSpec(),
    training: { epochs: 2, batchSize: 100, learningRate: { initial: 0.1, decayFactor: 1, min: 0 }, momentum: { initial: 0.5, final: 0.5, startEpoch: 1, saturateEpoch: 1 }, objective: { kind: 'clean' } },
    seed: 1,
    earlyStopping: null,
    continuation: null,
    epochsFrom: null,
    includeValidation: false,
    rubbishClass: null,
  });
  const craft = unit('craft', { kind: 'craft', dataset, source: [train.key], attack, split: 'test', seed: 1 }, [train.key]);
  const viaCraft = unit('eval-craft', { kind: 'evaluate', dataset, source: [train.key], target: [train.key], attack, split: 'test', seed: 1, craftUnit: craft.key }, [craft.key, train.key]);
  const direct = unit('eval-direct', { kind: 'evaluate', dataset, source: [train.key], target: [train.key], attack: { ...attack, eps: 0.1 }, split: 'test', seed: 1 }, [train.key]);
  return { units: [train, craft, viaCraft, direct], train, craft, viaCraft, direct };
}

/** Flips `count` bits spread over a file, as a bad disk or a bad transfer would. */
function flipBits(path: string, count: number): void {
  const bytes = readFileSync(path);
  for (let i = 0; i < count; i++) {
    const bit = Math.floor(((i + 0.5) / count) * bytes.byteLength * 8);
    bytes[bit >> 3] ^= 1 << (bit & 7);
  }
  writeFileSync(path, bytes);
}

interface Hooks {
  /** Before a unit runs (after the cache is read). */
  before?: (unit: Unit, runsDir: string) => void;
  /** After it ran and its digests were taken, before the scheduler writes its result (where BullMQ's files come through Redis). */
  after?: (unit: Unit, runsDir: string) => void;
}

let context: Omit<WorkerContext, 'runsDir'>;
let sweepUnits: ReturnType<typeof smallSweep>;
let baseline: { runsDir: string; results: Map<string, UnitResult> };
const scratch = mkdtempSync(join(tmpdir(), 'advx-integrity-'));
let dirs = 0;

/** The sweep's units run in this thread, one at a time, as a worker runs them. */
function inProcess(runsDir: string, hooks: Hooks): Executor & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    async run(u: Unit): Promise<UnitOutput> {
      ran.push(u.role);
      hooks.before?.(u, runsDir);
      const output = await runUnit({ ...context, runsDir }, u);
      hooks.after?.(u, runsDir);
      return output;
    },
    async close() {},
  };
}

/** A runs directory: a copy of the baseline's (then `damage`d), or an empty one. */
function runsDirectory(from: 'baseline' | 'empty', damage?: (runsDir: string) => void): string {
  const runsDir = join(scratch, `runs-${++dirs}`);
  if (from === 'baseline') cpSync(baseline.runsDir, runsDir, { recursive: true });
  damage?.(runsDir);
  return runsDir;
}

async function sweep(runsDir: string, o: { reuse?: string[]; hooks?: Hooks; retries?: number } = {}) {
  const log = { warn: [] as string[], info: [] as string[] };
  const store = new RunStore(runsDir, o.reuse ?? [], { warn: (m) => log.warn.push(m), info: (m) => log.info.push(m) });
  const executor = inProcess(runsDir, o.hooks ?? {});
  const statuses = await runUnits(sweepUnits.units, { executor, store, retries: o.retries ?? 2, maxInFlight: 1 });
  const state = (u: Unit) => statuses.get(u.key)?.state;
  return { statuses, log, ran: executor.ran, state };
}

/** A result's metrics but its speed (a measurement of the run, not a number of the unit). */
const numbers = (result: UnitResult) => ({ ...result.metrics, examples_per_second: undefined });

/** Every unit's numbers (and the model's and examples' bytes, by digest) equal the uncorrupted run's. */
function expectBaselineNumbers(statuses: Map<string, UnitStatus>): void {
  for (const u of sweepUnits.units) {
    const result = statuses.get(u.key)?.result;
    if (!result) continue; // a craft unit that nothing had to read is not scheduled
    expect(numbers(result), u.role).toEqual(numbers(baseline.results.get(u.key)!));
    expect(result.files, u.role).toEqual(baseline.results.get(u.key)!.files);
  }
}

const once = (when: (u: Unit) => boolean, act: (u: Unit, runsDir: string) => void) => {
  let done = false;
  return (u: Unit, runsDir: string) => {
    if (done || !when(u)) return;
    done = true;
    act(u, runsDir);
  };
};

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as UnitResult;

describe('result.json schema', () => {
  const config: UnitConfig = { kind: 'rubbish', dataset: { name: 'mnist', checksum: 'c', trainCount: null, testCount: 10, validationSize: 0, classes: null }, model: ['m'], count: 5, attack: null, seed: 1 };
  const key = unitKey(config);
  const good = { key, role: 'r', seed: 1, config, metrics: { count: 5, x: null }, backend: 'cpu', computeSeconds: 1, finishedAt: 'now', attempts: 1 };

  it('takes a whole result and refuses one with only its key, another unit\'s, an edited config, or malformed artifacts', () => {
    expect(checkResult(good, key)).toEqual({ result: good });
    expect(checkResult({ key }, key)).toMatchObject({ problem: expect.stringMatching(/^not a unit result \(role: .*metrics/) });
    expect(checkResult(good, 'rubbish-0000')).toMatchObject({ problem: expect.stringContaining(`holds the result of unit ${key}`) });
    expect(checkResult({ ...good, config: { ...config, count: 6 } }, key)).toMatchObject({ problem: expect.stringContaining('its config hashes to') });
    expect(checkResult({ ...good, metrics: { count: 'five' } }, key)).toMatchObject({ problem: expect.stringContaining('metrics.count') });
    expect(checkResult({ ...good, artifacts: { classHistogram: 'no' } }, key)).toMatchObject({ problem: expect.stringContaining('artifacts.classHistogram') });
    for (const name of ['../../etc/passwd', 'model/..', 'weights.bin']) expect(checkResult({ ...good, files: { [name]: sha256(new Uint8Array()) } }, key)).toMatchObject({ problem: expect.stringContaining('Invalid key') });
    expect(checkResult({ ...good, files: { 'model/weights.bin': 'not-a-digest' } }, key)).toMatchObject({ problem: expect.stringContaining('a SHA-256 in hex') });
    expect(checkResult({ ...good, files: { 'model/model.json': sha256(new Uint8Array()) } }, key)).toMatchObject({ problem: expect.stringContaining('outside') });
  });

  it('takes a train history with a PGD-monitor reading, null or none (older results), and refuses a malformed one', () => {
    const train: UnitConfig = {
      kind: 'train', dataset: config.dataset, model: softmaxRegressionSpec(), seed: 1, earlyStopping: null, continuation: null, epochsFrom: null, includeValidation: false, rubbishClass: null,
      training: { epochs: 1, batchSize: 10, learningRate: { initial: 0.1, decayFactor: 1, min: 0 }, momentum: { initial: 0.5, final: 0.5, startEpoch: 1, saturateEpoch: 1 }, objective: { kind: 'clean' } },
    };
    const trainKey = unitKey(train);
    const epoch = { stage: 1, epoch: 1, trainLoss: 0.5, examplesPerSecond: 10 };
    const withHistory = (history: object[]) => ({ ...good, key: trainKey, config: train, artifacts: { history } });
    for (const monitor of [{ cleanAccuracy: 0.9, pgdAccuracy: 0.1 }, null, undefined]) expect(checkResult(withHistory([{ ...epoch, monitor }]), trainKey)).toHaveProperty('result');
    expect(checkResult(withHistory([{ ...epoch, monitor: { cleanAccuracy: 0.9 } }]), trainKey)).toMatchObject({ problem: expect.stringContaining('pgdAccuracy') });
  });

  it('names the unit whose files are corrupt in a message that survives any executor', () => {
    const error = new CorruptArtifactError('train-0123abcd', '/runs/train-0123abcd/model/weights.bin', 'missing');
    expect(error.message).toMatch(/^\/runs\/train-0123abcd\/model\/weights.bin: missing/);
    expect(corruptProducer(new Error(error.message).message)).toBe('train-0123abcd');
    expect(corruptProducer('worker died')).toBeNull();
  });
});

describe.skipIf(!mnistDir)('cached work is verified before it is used (a small sweep, in-process)', () => {
  beforeAll(async () => {
    const splits = await loadDataset('mnist', { dataDir: mnistDir, validationSize: VALIDATION });
    const backend = tf.getBackend() as BackendName;
    context = { backend, threads: await kernelThreads(backend), datasets: { mnist: shareSplits(splits) }, progress: () => {} };
    sweepUnits = smallSweep(splits.checksum);
    const runsDir = runsDirectory('empty');
    const { statuses, log } = await sweep(runsDir);
    expect(log.warn).toEqual([]);
    expect([...statuses.values()].map((s) => s.state)).toEqual(['done', 'done', 'done', 'done']);
    baseline = { runsDir, results: new Map([...statuses].map(([key, s]) => [key, s.result!])) };
  }, 120_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('records the SHA-256 of the model and the crafted examples in their results', () => {
    const { train, craft } = sweepUnits;
    const stored = readJson(resultPath(baseline.runsDir, train.key));
    expect(Object.keys(stored.files!).sort()).toEqual(['model/model.json', 'model/weights.bin']);
    expect(stored.files!['model/weights.bin']).toBe(sha256(readFileSync(join(modelDirectory(baseline.runsDir, train.key), 'weights.bin'))));
    expect(readJson(resultPath(baseline.runsDir, craft.key)).files).toEqual({ 'adversarial/examples.msgpack': sha256(readFileSync(craftedPath(baseline.runsDir, craft.key))) });
  });

  it('a rerun of an intact sweep recomputes nothing', async () => {
    const { ran, log, statuses } = await sweep(runsDirectory('baseline'));
    expect(ran).toEqual([]);
    expect(log.warn).toEqual([]);
    expectBaselineNumbers(statuses);
  });

  const weights = (runsDir: string) => join(modelDirectory(runsDir, sweepUnits.train.key), 'weights.bin');
  const modelJson = (runsDir: string) => join(modelDirectory(runsDir, sweepUnits.train.key), 'model.json');

  it.each([
    ['weights.bin truncated', (d: string) => truncateSync(weights(d), 3925 * 4), weights, /SHA-256 .* \(15700 bytes\) is not the/],
    ['200 bits of weights.bin flipped', (d: string) => flipBits(weights(d), 200), weights, /SHA-256 .* is not the/],
    ['model.json truncated', (d: string) => truncateSync(modelJson(d), 100), modelJson, /is not the/],
    ['model/ deleted', (d: string) => rmSync(modelDirectory(d, sweepUnits.train.key), { recursive: true }), modelJson, /: missing/],
    ['result.json not JSON', (d: string) => writeFileSync(resultPath(d, sweepUnits.train.key), '{"key": "train-'), (d: string) => resultPath(d, sweepUnits.train.key), /not JSON/],
    [
      'result.json with an edited config',
      (d: string) => {
        const r = readJson(resultPath(d, sweepUnits.train.key));
        writeFileSync(resultPath(d, sweepUnits.train.key), JSON.stringify({ ...r, config: { ...r.config, seed: 2 } }));
      },
      (d: string) => resultPath(d, sweepUnits.train.key),
      /config hashes to/,
    ],
  ])('%s: reported once, naming the file; the model is retrained, bit for bit', async (_name, damage, file, reason) => {
    const runsDir = runsDirectory('baseline', damage);
    const { ran, log, statuses, state } = await sweep(runsDir);
    expect(log.warn).toHaveLength(1);
    expect(log.warn[0].startsWith(`${file(runsDir)}: `)).toBe(true);
    expect(log.warn[0]).toMatch(reason);
    expect(log.warn[0]).toContain(`unit ${sweepUnits.train.key} is recomputed`);
    expect(ran).toEqual(['softmax']);
    expect(state(sweepUnits.train)).toBe('done');
    expectBaselineNumbers(statuses);
    // The next rerun takes it.
    expect((await sweep(runsDir)).ran).toEqual([]);
  });

  it('a result.json holding only its key is not cached: reported once, recomputed, and the report has its numbers', async () => {
    const { direct } = sweepUnits;
    const runsDir = runsDirectory('baseline', (d) => writeFileSync(resultPath(d, direct.key), JSON.stringify({ key: direct.key })));
    const { ran, log, statuses } = await sweep(runsDir);
    expect(log.warn).toEqual([expect.stringMatching(new RegExp(`^${resultPath(runsDir, direct.key)}: not a unit result \\(.*metrics`))]);
    expect(ran).toEqual(['eval-direct']);
    expect(statuses.get(direct.key)!.result!.metrics.clean_error).toBe(baseline.results.get(direct.key)!.metrics.clean_error);
    expectBaselineNumbers(statuses);
  });

  it('crafted examples flipped on disk: the craft unit is recomputed before the evaluation that reads them', async () => {
    const { craft, viaCraft } = sweepUnits;
    const runsDir = runsDirectory('baseline', (d) => {
      flipBits(craftedPath(d, craft.key), 10);
      rmSync(resultPath(d, viaCraft.key));
    });
    const { ran, log, statuses } = await sweep(runsDir);
    expect(log.warn).toEqual([expect.stringContaining(`${craftedPath(runsDir, craft.key)}: its SHA-256`)]);
    expect(ran).toEqual(['craft', 'eval-craft']);
    expectBaselineNumbers(statuses);
  });

  it('weights corrupted after the cache was read: the evaluation that finds it has the model retrained, then runs once', async () => {
    const { train, viaCraft, direct } = sweepUnits;
    const runsDir = runsDirectory('baseline', (d) => {
      rmSync(resultPath(d, viaCraft.key));
      rmSync(resultPath(d, direct.key));
    });
    const { ran, log, statuses, state } = await sweep(runsDir, { hooks: { before: once((u) => u.config.kind === 'evaluate', (_u, d) => flipBits(weights(d), 200)) } });
    expect(log.warn).toHaveLength(1);
    expect(log.warn[0]).toMatch(new RegExp(`^${weights(runsDir)}: its SHA-256 .*; recomputing softmax seed 1 \\(${train.key}\\), then eval-`));
    expect(ran.filter((r) => r === 'softmax')).toHaveLength(1);
    expect(ran.slice(0, 2)).toEqual([ran[0], 'softmax']);
    expect(ran[0]).toMatch(/^eval-/);
    expect(ran).toHaveLength(4);
    for (const u of [train, viaCraft, direct]) expect(state(u)).toBe('done');
    // The attempt that found the corruption is not the evaluation's.
    expect(statuses.get(direct.key)!.attempts).toBe(1);
    expect(statuses.get(viaCraft.key)!.attempts).toBe(1);
    expectBaselineNumbers(statuses);
  });

  it.each([
    ['holds only its key', (path: string, key: string) => writeFileSync(path, JSON.stringify({ key })), /: not a unit result/],
    ['is gone', (path: string) => rmSync(path), /: missing/],
  ])('a dependency whose result.json %s when a unit reads it is recomputed first', async (_name, damage, reason) => {
    const { train, direct } = sweepUnits;
    const runsDir = runsDirectory('baseline', (d) => rmSync(resultPath(d, direct.key)));
    const { ran, log, statuses } = await sweep(runsDir, { hooks: { before: once((u) => u.key === direct.key, (_u, d) => damage(resultPath(d, train.key), train.key)) } });
    expect(log.warn).toHaveLength(1);
    expect(log.warn[0].startsWith(`${resultPath(runsDir, train.key)}: `)).toBe(true);
    expect(log.warn[0]).toMatch(reason);
    expect(ran).toEqual(['eval-direct', 'softmax', 'eval-direct']);
    expectBaselineNumbers(statuses);
  });

  it('a producer is recomputed once per sweep: a reader that still finds it corrupt fails as any unit does', async () => {
    const { train, direct } = sweepUnits;
    const runsDir = runsDirectory('baseline', (d) => rmSync(resultPath(d, direct.key)));
    const { ran, log, state, statuses } = await sweep(runsDir, { retries: 1, hooks: { before: (u, d) => u.role === 'eval-direct' && truncateSync(weights(d), 100) } });
    expect(log.warn).toHaveLength(1);
    expect(ran).toEqual(['eval-direct', 'softmax', 'eval-direct', 'eval-direct']);
    expect(state(train)).toBe('done');
    expect(state(direct)).toBe('failed');
    expect(statuses.get(direct.key)!.error).toContain(`${weights(runsDir)}: its SHA-256`);
  });

  it('files that differ from the digests the worker took (a bad transfer) fail the attempt, and the retry is kept', async () => {
    const { train } = sweepUnits;
    const runsDir = runsDirectory('empty');
    const { ran, log, statuses, state } = await sweep(runsDir, { hooks: { after: once((u) => u.key === train.key, (_u, d) => flipBits(weights(d), 200)) } });
    expect(log.warn).toEqual([]);
    expect(ran.filter((r) => r === 'softmax')).toHaveLength(2);
    expect(state(train)).toBe('done');
    expect(statuses.get(train.key)!.attempts).toBe(2);
    expectBaselineNumbers(statuses);
  });

  it('--reuse: a corrupt unit of another sweep is reported and not copied; its intact units are', async () => {
    const { train } = sweepUnits;
    const other = runsDirectory('baseline', (d) => truncateSync(weights(d), 1000));
    const runsDir = runsDirectory('empty');
    const { ran, log, statuses } = await sweep(runsDir, { reuse: [other] });
    expect(log.warn).toEqual([expect.stringMatching(new RegExp(`^--reuse ${weights(other)}: .*; not reused$`))]);
    expect(ran).toEqual(['softmax']);
    expectBaselineNumbers(statuses);
    await expect(unitFilesIntact(runsDir, train.key, 'train', baseline.results.get(train.key)!.files)).resolves.toBe(true);
    // The other sweep is left as it was.
    expect(readFileSync(weights(other)).byteLength).toBe(1000);
  });

  it('--reuse: an intact sweep is copied in, nothing recomputed; a corrupt local result gives way to it', async () => {
    const runsDir = runsDirectory('baseline', (d) => truncateSync(weights(d), 10));
    const { ran, log, statuses } = await sweep(runsDir, { reuse: [runsDirectory('baseline')] });
    expect(ran).toEqual([]);
    expect(log.warn).toEqual([expect.stringMatching(new RegExp(`^${weights(runsDir)}: .*replaced by the finished unit in`))]);
    expectBaselineNumbers(statuses);
  });

  describe('results written before digests were recorded', () => {
    const stripDigests = (d: string) => {
      for (const u of [sweepUnits.train, sweepUnits.craft]) {
        const { files: _files, ...legacy } = readJson(resultPath(d, u.key));
        writeFileSync(resultPath(d, u.key), JSON.stringify(legacy));
      }
    };

    it('are taken when their files are whole, and their digests recorded from then on', async () => {
      const runsDir = runsDirectory('baseline', stripDigests);
      const { ran, log, statuses } = await sweep(runsDir);
      expect(ran).toEqual([]);
      expect(log.warn).toEqual([]);
      expect(log.info).toEqual([expect.stringContaining(resultPath(runsDir, sweepUnits.train.key)), expect.stringContaining(resultPath(runsDir, sweepUnits.craft.key))]);
      expectBaselineNumbers(statuses);
      expect(readJson(resultPath(runsDir, sweepUnits.train.key)).files).toEqual(baseline.results.get(sweepUnits.train.key)!.files);
    });

    it('are recomputed when a file is missing or truncated', async () => {
      const runsDir = runsDirectory('baseline', (d) => {
        stripDigests(d);
        truncateSync(weights(d), 3925 * 4);
        rmSync(craftedPath(d, sweepUnits.craft.key));
        rmSync(resultPath(d, sweepUnits.viaCraft.key));
      });
      const { ran, log, statuses } = await sweep(runsDir);
      expect(log.warn).toEqual([
        `${weights(runsDir)}: 15700 bytes, but model.json's manifest needs 31400; not used, unit ${sweepUnits.train.key} is recomputed`,
        `${craftedPath(runsDir, sweepUnits.craft.key)}: missing; not used, unit ${sweepUnits.craft.key} is recomputed`,
      ]);
      expect(ran).toEqual(['softmax', 'craft', 'eval-craft']);
      expectBaselineNumbers(statuses);
    });
  });
});
