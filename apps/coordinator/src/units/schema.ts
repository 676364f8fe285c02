import { z } from 'zod';
import type { ArtifactKind } from './artifacts.js';
import { UNIT_CODE_VERSIONS, unitKey } from './key.js';
import { unitFilesLayout } from './files.js';
import type { UnitConfig, UnitKind, UnitResult } from './types.js';

/**
 * What a result.json must hold before it counts as a finished unit: the fields the scheduler, the
 * report and the units that read it use, with their types. The config is checked by its key (the
 * key hashes it, units/key.ts), so a config that was edited or cut short does not pass either.
 * No TensorFlow here: the coordinator's main thread imports this.
 */

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const metric = z.number().nullable();

const run = z.looseObject({
  worker: z.string(),
  startedAt: finite,
  finishedAt: finite,
  tensorsAfter: finite,
  heapUsedMB: finite,
  rssMB: finite,
  threads: finite.optional(),
  cpu: z.string().optional(),
  dispatchedAt: finite.optional(),
  receivedAt: finite.optional(),
});

const dataset = z.looseObject({
  name: z.string(),
  checksum: z.string(),
  trainCount: z.number().nullable(),
  testCount: z.number().nullable(),
  validationSize: z.number(),
  classes: z.array(z.number()).nullable(),
});

const config = z.looseObject({ kind: z.enum(Object.keys(UNIT_CODE_VERSIONS) as [UnitKind, ...UnitKind[]]), dataset, seed: z.number() });

/** SHA-256 (hex) of each file the unit left, by its path under the unit's directory ("model/weights.bin"). */
const files = z.record(z.string().regex(/^[\w-]+\/(?!\.\.?$)[\w.-]+$/, 'a file of the unit, as directory/name'), z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'));

const numbers = z.array(z.number());
const image = z.array(z.number());

/** The arrays behind figures and curves, by kind (units/artifacts.ts); a result may have none. */
const ARTIFACTS: { [K in ArtifactKind]: z.ZodType } = {
  train: z.looseObject({
    history: z.array(
      z.looseObject({
        stage: z.union([z.literal(1), z.literal(2)]),
        epoch: z.number(),
        trainLoss: z.number().nullable(),
        examplesPerSecond: z.number().nullable(),
        // Absent in results written before the PGD monitor existed.
        monitor: z.looseObject({ cleanAccuracy: z.number(), pgdAccuracy: z.number() }).nullable().optional(),
      }),
    ),
  }),
  examples: z.looseObject({
    shape: z.tuple([z.number(), z.number(), z.number()]),
    eps: z.number(),
    classNames: z.array(z.string()),
    labels: numbers,
    clean: z.array(image),
    gradientSign: z.array(image),
    adversarial: z.array(image),
    cleanPrediction: numbers,
    cleanConfidence: numbers,
    adversarialPrediction: numbers,
    adversarialConfidence: numbers,
    weights: z.looseObject({ images: z.array(image), pieces: z.number() }).optional(),
  }),
  linearity: z.looseObject({ epsilons: numbers, logits: z.array(numbers), label: z.number() }),
  fooling: z.looseObject({ shape: z.tuple([z.number(), z.number(), z.number()]), examples: z.array(image), successByClass: numbers }),
  rubbish: z.looseObject({ classHistogram: numbers }),
  masking: z.looseObject({ epsilons: numbers, fgsmCurve: numbers, pgdCurve: numbers }),
};

const result = z.looseObject({
  key: z.string(),
  role: z.string(),
  seed: z.number(),
  config,
  metrics: z.record(z.string(), metric),
  artifacts: z.looseObject({}).optional(),
  files: files.optional(),
  backend: z.string(),
  computeSeconds: z.number(),
  run: run.optional(),
  finishedAt: z.string(),
  attempts: z.number().int().nonnegative(),
});

/** The first issues with their messages, then the paths of the rest: `role: Invalid input…; also metrics, backend`. */
function describeIssues(error: z.ZodError, prefix = ''): string {
  const path = (issue: z.core.$ZodIssue) => prefix + (issue.path.length ? issue.path.join('.') : '(top level)');
  const first = error.issues.slice(0, 3).map((issue) => `${path(issue)}: ${issue.message}`);
  const rest = error.issues.slice(3).map(path);
  return first.join('; ') + (rest.length ? `; also ${rest.join(', ')}` : '');
}

/** A parsed result.json checked against the schema and its key: the result, or what is wrong with it. */
export function checkResult(raw: unknown, key: string): { result: UnitResult } | { problem: string } {
  const parsed = result.safeParse(raw);
  if (!parsed.success) return { problem: `not a unit result (${describeIssues(parsed.error)})` };
  const value = parsed.data as unknown as UnitResult;
  if (value.key !== key) return { problem: `holds the result of unit ${value.key}, not of ${key}` };
  const kind = value.config.kind;
  let hashed: string;
  try {
    hashed = unitKey(value.config as UnitConfig);
  } catch (error) {
    return { problem: `its config cannot be hashed (${(error as Error).message})` };
  }
  if (hashed !== key) return { problem: `its config hashes to ${hashed}, not to its key ${key}` };
  if (value.artifacts !== undefined && kind in ARTIFACTS) {
    const artifacts = ARTIFACTS[kind as ArtifactKind].safeParse(value.artifacts);
    if (!artifacts.success) return { problem: `its artifacts are not those of a ${kind} unit (${describeIssues(artifacts.error, 'artifacts.')})` };
  }
  if (value.files) {
    const layout = unitFilesLayout(kind);
    const strays = Object.keys(value.files).filter((name) => !layout || !name.startsWith(`${layout.directory}/`));
    if (strays.length) return { problem: `names files outside its ${layout ? `${layout.directory}/ ` : ''}directory (${strays.join(', ')})` };
    if (layout && !(`${layout.directory}/${layout.marker}` in value.files)) return { problem: `records no digest of ${layout.directory}/${layout.marker}` };
  }
  return { result: value };
}
