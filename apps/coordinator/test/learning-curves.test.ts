// Learning curves: the TensorBoard event files a training unit writes while it trains (native
// backend only), and the report's learning-curve figure built from units' histories.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '@advx/data';
import { kernelThreads, type BackendName, type EpochRecord } from '@advx/models';
import { EXPERIMENTS } from '../src/catalogue/experiments/index.js';
import { chartSpec, renderFigure, type LearningCurvesFigure } from '../src/figures/index.js';
import { learningCurveRows } from '../src/figures/charts.js';
import { runUnit, type WorkerContext } from '../src/compute/run-unit.js';
import { curveScalars, openCurveWriter } from '../src/compute/handlers/learning-curves.js';
import { tensorboardDirectory } from '../src/units/files.js';
import { planExperiment, type Plan } from '../src/catalogue/plan.js';
import { learningCurvesFigure } from '../src/report/figures.js';
import type { UnitStatus } from '../src/schedule/status.js';
import { shareSplits } from '../src/compute/shared-data.js';
import type { TrainUnitConfig, Unit } from '../src/units/types.js';
import { mnistDir } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'advx-curves-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// --- TFRecord + Event protobuf, just enough to read scalar summaries back ---------------------

function varint(bytes: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const b = bytes[at++];
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [value, at];
  }
}

/** Fields of one protobuf message: number → raw values (varint, 64-bit, bytes or 32-bit). */
function fields(bytes: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const out = new Map<number, (bigint | Uint8Array)[]>();
  let at = 0;
  while (at < bytes.length) {
    const [tag, next] = varint(bytes, at);
    at = next;
    const [field, wire] = [Number(tag >> 3n), Number(tag & 7n)];
    let value: bigint | Uint8Array;
    if (wire === 0) [value, at] = varint(bytes, at);
    else if (wire === 1) [value, at] = [bytes.subarray(at, at + 8), at + 8];
    else if (wire === 5) [value, at] = [bytes.subarray(at, at + 4), at + 4];
    else if (wire === 2) {
      const [length, start] = varint(bytes, at);
      [value, at] = [bytes.subarray(start, start + Number(length)), start + Number(length)];
    } else throw new Error(`wire type ${wire}`);
    if (!out.has(field)) out.set(field, []);
    out.get(field)!.push(value);
  }
  return out;
}

interface ScalarEvent {
  step: number;
  tag: string;
  value: number;
}

/** Scalar summaries of an events file (TFRecords of tensorflow.Event; Summary.Value simple_value or a scalar tensor). */
function readScalars(path: string): ScalarEvent[] {
  const file = readFileSync(path);
  const events: ScalarEvent[] = [];
  for (let at = 0; at < file.length; ) {
    const length = Number(file.readBigUInt64LE(at));
    const record = new Uint8Array(file.buffer, file.byteOffset + at + 12, length);
    at += 12 + length + 4;
    const event = fields(record);
    const summary = event.get(5)?.[0];
    if (!(summary instanceof Uint8Array)) continue; // the file_version record
    const step = Number((event.get(2)?.[0] as bigint | undefined) ?? 0n);
    for (const raw of fields(summary).get(1) ?? []) {
      const v = fields(raw as Uint8Array);
      const tag = Buffer.from(v.get(1)![0] as Uint8Array).toString('utf8');
      let value: number;
      const simple = v.get(2)?.[0] as Uint8Array | undefined;
      if (simple) value = Buffer.from(simple).readFloatLE(0);
      else {
        // TensorProto (field 8): float_val (5, packed) or tensor_content (4).
        const t = fields(v.get(8)![0] as Uint8Array);
        const packed = (t.get(5)?.[0] ?? t.get(4)?.[0]) as Uint8Array;
        value = Buffer.from(packed).readFloatLE(0);
      }
      events.push({ step, tag, value });
    }
  }
  return events;
}

const eventFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.')) : []);
const allScalars = (dir: string) => eventFiles(dir).sort().flatMap((f) => readScalars(join(dir, f)));

const record = (stage: 1 | 2, epoch: number, validationError: number | null, validationObjective: number | null = null): EpochRecord => ({
  stage, epoch, trainLoss: 1 / (epoch + stage), learningRate: 0.1, momentum: 0.5, validationError, validationObjective, examplesPerSecond: 1000, monitor: null,
});

// --- Event files ----------------------------------------------------------------------------------

describe('TensorBoard event files', () => {
  it('name the early-stopping criterion: adversarial validation error in stage 1 gets its own tag, stage 2 adds the objective', () => {
    expect(curveScalars(record(1, 1, 0.1), false).map(([t]) => t)).toEqual(['train/loss', 'validation/error', 'schedule/learning_rate', 'schedule/momentum']);
    expect(curveScalars(record(1, 1, 0.1), true).map(([t]) => t)).toContain('validation/adversarial_error');
    expect(curveScalars(record(2, 1, 0.1, 0.3), true).map(([t]) => t)).toEqual(['train/loss', 'validation/error', 'validation/objective', 'schedule/learning_rate', 'schedule/momentum']);
    expect(curveScalars(record(1, 1, null), false).map(([t]) => t)).toEqual(['train/loss', 'schedule/learning_rate', 'schedule/momentum']);
  });

  it('carry the PGD monitor\'s two accuracies when the run has one', () => {
    const monitored = { ...record(1, 1, 0.1), monitor: { cleanAccuracy: 0.9, pgdAccuracy: 0.4 } };
    expect(curveScalars(monitored, false)).toEqual(expect.arrayContaining([['monitor/pgd_accuracy', 0.4], ['monitor/clean_accuracy', 0.9]]));
    expect(curveScalars(record(1, 1, 0.1), false).some(([t]) => t.startsWith('monitor/'))).toBe(false);
  });

  it('are not written on a backend without TensorFlow kernels', () => {
    const dir = join(scratch, 'wasm-run', 'tensorboard');
    const writer = openCurveWriter('wasm', dir, false);
    writer.epoch(record(1, 1, 0.1), 1);
    writer.close();
    expect(existsSync(dir)).toBe(false);
  });

  describe.skipIf(!mnistDir)('from a smoke training unit', () => {
    let context: WorkerContext;
    let unit: Unit;
    beforeAll(async () => {
      const splits = await loadDataset('mnist', { dataDir: mnistDir, validationSize: 10000 });
      const plan = planExperiment(EXPERIMENTS['fgsm-baseline'], 'smoke', [1], splits.checksum);
      unit = plan.units.find((u) => u.role === 'maxout')!;
      context = { backend: tf.getBackend(), threads: await kernelThreads(tf.getBackend() as BackendName), datasets: { mnist: shareSplits(splits) }, runsDir: join(scratch, 'runs'), progress: () => {} };
    });

    it('on native TensorFlow: one scalar per curve and epoch, step = epoch over both stages, no tensor left behind; a rerun on the same thread appends', async (test) => {
      if (context.backend !== 'tensorflow') test.skip();
      const dir = tensorboardDirectory(context.runsDir, unit.key);
      const adversarial = !!(unit.config as TrainUnitConfig).earlyStopping?.adversarialEps;
      const expected = (history: EpochRecord[]) =>
        history.flatMap((r, i) => curveScalars(r, adversarial).map(([tag, value]) => ({ step: i + 1, tag, value: Math.fround(value) })));

      const before = tf.memory().numTensors;
      const first = await runUnit(context, unit); // throws if the unit leaked a tensor
      const history = (first.artifacts as { history: EpochRecord[] }).history;
      expect(history.length).toBeGreaterThanOrEqual(2);
      const files = eventFiles(dir);
      expect(files).toHaveLength(1);
      expect(statSync(join(dir, files[0])).size).toBeGreaterThan(0);
      const written = allScalars(dir);
      expect(written).toEqual(expected(history));
      expect(new Set(written.map((e) => e.tag))).toContain('train/loss');
      if (history.some((r) => r.stage === 2)) expect(new Set(written.map((e) => e.tag))).toContain('validation/objective');

      // tfjs-node caches one writer per directory for the thread's life: the same unit again on this
      // thread (a retry) must get a live handle, leak nothing, and add its epochs to the same log.
      const second = await runUnit(context, unit);
      expect(tf.memory().numTensors).toBe(before);
      const again = (second.artifacts as { history: EpochRecord[] }).history;
      expect(allScalars(dir)).toEqual([...expected(history), ...expected(again)]);
    });
  });
});

// --- The report's figure ----------------------------------------------------------------------

/** Statuses for a plan's training units, each with the history `historyOf` gives it (none: no result). */
function statusesFor(plan: Plan, historyOf: (unit: Unit) => EpochRecord[] | null): Map<string, UnitStatus> {
  const statuses = new Map<string, UnitStatus>();
  for (const unit of plan.units) {
    const history = unit.config.kind === 'train' ? historyOf(unit) : null;
    const result = { key: unit.key, role: unit.role, seed: unit.seed, config: unit.config, metrics: {}, artifacts: history ? { history } : undefined, backend: 'fake', computeSeconds: 0, finishedAt: '', attempts: 1 };
    statuses.set(unit.key, { unit, state: 'done', result, resultPath: null, attempts: 1, error: null });
  }
  return statuses;
}

/** `stage1` epochs (with a validation error when `validated`), then `stage2`. */
const history = (stage1: number, stage2: number, validated = true): EpochRecord[] => [
  ...Array.from({ length: stage1 }, (_, i) => record(1, i + 1, validated ? 0.1 / (i + 1) : null)),
  ...Array.from({ length: stage2 }, (_, i) => record(2, i + 1, 0.01, 0.2)),
];

type Row = ReturnType<typeof learningCurveRows>[number];
const pointsOf = (rows: Row[], panel: string, seed: number, metric: string, run = '') =>
  rows.filter((r) => r.panel === panel && r.seed === String(seed) && r.run === run && r.metric === metric && !r.junction);

describe('the learning-curve figure', () => {
  it('fgsm-baseline: a row per trained role, a line per seed, a point per epoch of both stages; one-epoch runs draw nothing', () => {
    const plan = planExperiment(EXPERIMENTS['fgsm-baseline'], 'smoke', [1, 2], 'sum');
    const roles = plan.units.filter((u) => u.config.kind === 'train').map((u) => u.role);
    expect(roles).toContain('maxout');
    expect(roles).toContain('softmax');
    // maxout: seed 1 ran 3 + 2 epochs, seed 2 stopped after 4 (no stage 2); softmax trained one epoch.
    const statuses = statusesFor(plan, (u) => (u.role === 'maxout' ? (u.seed === 1 ? history(3, 2) : history(4, 0)) : history(1, 0, false)));
    const figure = learningCurvesFigure(plan, statuses)!;
    expect(figure.id).toBe('learning-curves-fgsm-baseline');
    expect(figure.panels).toEqual(['maxout']);
    expect(figure.curves.map((c) => [c.seed, c.epochs.length])).toEqual([[1, 5], [2, 4]]);
    expect(figure.curves[0].epochs.map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);

    const spec = chartSpec(figure) as unknown as { data: { values: Row[] }; vconcat: { hconcat: unknown[] }[] };
    const rows = spec.data.values;
    expect(rows).toEqual(learningCurveRows(figure));
    expect(pointsOf(rows, 'maxout', 1, 'loss')).toHaveLength(5);
    expect(pointsOf(rows, 'maxout', 1, 'error')).toHaveLength(5);
    expect(pointsOf(rows, 'maxout', 2, 'loss')).toHaveLength(4);
    expect(pointsOf(rows, 'maxout', 2, 'error')).toHaveLength(4);
    expect(pointsOf(rows, 'maxout', 1, 'loss').filter((r) => r.stage.startsWith('stage 2')).map((r) => r.step)).toEqual([4, 5]);
    // The stage-2 line starts at the last stage-1 epoch (a junction row, not an epoch): one per metric, for seed 1 only.
    expect(rows.filter((r) => r.junction).map((r) => [r.seed, r.metric, r.step])).toEqual([['1', 'loss', 3], ['1', 'error', 3]]);
    expect(spec.vconcat).toHaveLength(1);
    expect(spec.vconcat[0].hconcat).toHaveLength(2);
  });

  it('ensemble: the twelve members share their model\'s row, a line per member and seed; a run without a validation set has no error points', () => {
    const plan = planExperiment(EXPERIMENTS.ensemble, 'smoke', [1, 2], 'sum');
    const members = plan.units.filter((u) => u.config.kind === 'train' && u.member !== undefined);
    expect(members.length).toBeGreaterThanOrEqual(2 * 2);
    const statuses = statusesFor(plan, (u) => (u.member ? history(3, 0, false) : history(2, 1)));
    const figure = learningCurvesFigure(plan, statuses)!;
    const runs = new Set(members.map((u) => String(u.member!.index)));
    const base = `${members[0].member!.role}: ${runs.size} members`;
    expect(figure.panels).toContain(base);
    const rows = learningCurveRows(figure);
    for (const u of members) {
      const run = u.role.split('#')[1];
      expect(pointsOf(rows, base, u.seed, 'loss', run)).toHaveLength(3);
      expect(pointsOf(rows, base, u.seed, 'error', run)).toHaveLength(0);
    }
    expect(figure.curves.filter((c) => c.panel === base)).toHaveLength(members.length);
  });

  it('adversarial-training: a PGD-accuracy column in the monitored role\'s row only, its settings in the caption; old histories without `monitor` draw none', async () => {
    const plan = planExperiment(EXPERIMENTS['adversarial-training'], 'smoke', [1, 2], 'sum');
    const pgd = (i: number) => [0.6, 0.7, 0.05, 0.02, 0.01][i];
    const monitored = (h: EpochRecord[]) => h.map((r, i) => ({ ...r, monitor: { cleanAccuracy: 0.95, pgdAccuracy: pgd(i) } }));
    // Seed 2's maxout-adv history is written as before the monitor existed (no field at all).
    const legacy = (h: EpochRecord[]) => h.map(({ monitor: _, ...r }) => r) as EpochRecord[];
    const statuses = statusesFor(plan, (u) => (u.role === 'maxout-adv' ? (u.seed === 1 ? monitored(history(3, 2)) : legacy(history(3, 2))) : history(3, 2)));
    const figure = learningCurvesFigure(plan, statuses)!;
    expect(figure.curves.find((c) => c.panel === 'maxout-adv' && c.seed === 1)!.epochs.map((e) => e.pgdAccuracy)).toEqual([0.6, 0.7, 0.05, 0.02, 0.01]);
    expect(figure.curves.find((c) => c.panel === 'maxout-adv' && c.seed === 2)!.epochs.every((e) => e.pgdAccuracy === null)).toBe(true);
    expect(figure.curves.find((c) => c.panel === 'maxout')!.epochs.every((e) => e.pgdAccuracy === null)).toBe(true);
    expect(figure.caption).toContain('PGD accuracy');
    expect(figure.caption).toContain('ε = 0.25, 10 steps of 0.0625, clipped to [0, 1], on the first 256 training examples');
    const rows = learningCurveRows(figure);
    expect(pointsOf(rows, 'maxout-adv', 1, 'pgd').map((r) => r.value)).toEqual([0.6, 0.7, 0.05, 0.02, 0.01]);
    expect(pointsOf(rows, 'maxout-adv', 2, 'pgd')).toHaveLength(0);
    expect(rows.filter((r) => r.metric === 'pgd' && r.panel !== 'maxout-adv')).toHaveLength(0);
    const spec = chartSpec(figure) as unknown as { vconcat: { title: { text: string }; hconcat: unknown[] }[] };
    expect(spec.vconcat.map((row) => [row.title.text, row.hconcat.length])).toEqual(figure.panels.map((p) => [p, p === 'maxout-adv' ? 3 : 2]));
    const svg = readFileSync((await renderFigure(figure, join(scratch, 'figures-monitor'))).svgPath, 'utf8');
    expect(svg).toContain('PGD accuracy');
  });

  it('is absent when no training unit ran two epochs, and renders to SVG and PNG when present', async () => {
    const plan = planExperiment(EXPERIMENTS['fgsm-baseline'], 'smoke', [1, 2, 3], 'sum');
    expect(learningCurvesFigure(plan, statusesFor(plan, () => history(1, 0)))).toBeNull();
    expect(learningCurvesFigure(plan, statusesFor(plan, () => null))).toBeNull();
    const figure = learningCurvesFigure(plan, statusesFor(plan, (u) => history(u.seed + 2, u.seed === 3 ? 0 : 2))) as LearningCurvesFigure;
    const rendered = await renderFigure(figure, join(scratch, 'figures'));
    const svg = readFileSync(rendered.svgPath, 'utf8');
    expect(svg).toContain('training loss');
    expect(svg).toContain('validation error');
    expect(svg).toContain('stage 2 (train + validation)');
    expect(statSync(rendered.pngPath).size).toBeGreaterThan(1000);
  });
});
