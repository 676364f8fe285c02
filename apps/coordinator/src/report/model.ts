import type { MetricUnit } from '../support/metric-format.js';
import type { CheckOutcome } from '@advx/metrics';
import type { PresetName } from '../catalogue/experiments/types.js';
import type { FarmProfile } from '../schedule/farm-profile.js';
import type { UnitState } from '../schedule/status.js';
import type { Provenance } from './provenance.js';
import type { ClaimVerdict, MetricVerdict } from './verdict.js';

/**
 * A sweep's report, as built from its plans and unit statuses (build.ts) and written to report.json,
 * report.md (markdown.ts) and report.html (html.ts). Verdicts are values; their words are rendered
 * once, when the report is built, and nothing parses them back.
 */

export interface MetricReport {
  paper: number | null;
  tolerance: number | null;
  bound: 'atLeast' | 'atMost' | null;
  mean: number;
  std: number;
  ci95: number;
  n: number;
  values: number[];
  /** How ours compares with the paper's value. */
  verdict: MetricVerdict;
  /** The verdict in words (verdict.ts): 'within tolerance (±x pp)', 'off by +x pp (tolerance ±y pp)', 'ours only', … */
  status: string;
  /** Whether the paper's value lies inside our mean ± 95% CI (null without a paper value or with n < 2). */
  paperInCi: boolean | null;
  /** Another reading of the claim (e.g. clipped FGSM): shown, but not deciding the claim's status. */
  alternative: string | null;
  /** How the values are shown (a rate as a percent, or a plain number). */
  unit: MetricUnit;
}

export interface ClaimReport {
  id: string;
  experiment: string;
  description: string;
  metrics: Record<string, MetricReport>;
  verdict: ClaimVerdict;
  /** The verdict in words (verdict.ts): 'reproduced', 'differs: adv_error', 'ours only', 'no data'. */
  status: string;
  /** Unit keys whose results fed this claim. */
  runs: string[];
  /** Gradient-masking checks failed by a model whose numbers the claim reads: its verdict stands, qualified by these. */
  qualifiedBy: ClaimQualification[];
  /** The qualification in words ('maxout-adv fails monotone-eps (seeds 1, 2)'); empty when none. */
  qualification: string;
}

export interface ClaimQualification {
  model: string;
  check: string;
  seeds: number[];
}

/** One gradient-masking check of one model × seed (report/checks.ts), as report.json lists them. */
export interface CheckReport extends CheckOutcome<string> {
  experiment: string;
  model: string;
  seed: number;
  /** The masking unit it was computed from. */
  run: string;
}

export interface MatrixReport {
  id: string;
  experiment: string;
  title: string;
  metric: string;
  models: string[];
  /** [source][target] mean over seeds (null where no seed finished). */
  values: (number | null)[][];
}

export interface CurveReport {
  id: string;
  experiment: string;
  title: string;
  series: { model: string; attack: string; points: [eps: number, error: number][] }[];
}

export interface ExperimentReport {
  id: string;
  title: string;
  section: string;
  shortened: string;
  /** Seeds this experiment ran (fewer than the sweep's where the preset caps it). */
  seeds: number[];
  claims: string[];
  /** Claims a `--claims` sweep left out (their units were not planned). */
  omittedClaims: string[];
  matrices: string[];
  curves: string[];
  skipped: string | null;
}

export interface RunReport {
  key: string;
  role: string;
  seed: number;
  /** The unit's final state (schedule/status.ts). */
  status: UnitState;
  resultPath: string | null;
  attempts: number;
  error: string | null;
  backend: string | null;
  /** The kernels' threads the unit ran with (null: not finished, or recorded before threads were). */
  threads: number | null;
  computeSeconds: number | null;
}

export interface Report {
  experiment: string;
  preset: PresetName;
  backend: string;
  dataset: string;
  seeds: number[];
  wallSeconds: number;
  /** Backends, threads per unit and CPUs the units ran with: what bitwise comparison with another report needs. */
  provenance: Provenance;
  experiments: ExperimentReport[];
  claims: ClaimReport[];
  matrices: MatrixReport[];
  curves: CurveReport[];
  /** The gradient-masking battery: every check of every checked model × seed. */
  checks: CheckReport[];
  /** The report's figures, paths relative to the report. */
  figures: FigureLink[];
  runs: RunReport[];
  /** Where the sweep's time went (null when it computed nothing). */
  farm: FarmProfile | null;
  complete: boolean;
  failures: { key: string; role: string; seed: number; error: string }[];
  generatedAt: string;
}

/** A rendered figure's files, relative to the report. */
export interface FigureLink {
  id: string;
  title: string;
  svg: string;
  png: string;
}

/** report.json: the report without its verdict values, whose words (`status`) it already holds. */
export function reportJson(report: Report): string {
  // Rest and spread keep the keys' order, so the file reads as it did before verdicts were values.
  const claims = report.claims.map(({ verdict: _claimVerdict, ...claim }) => ({
    ...claim,
    metrics: Object.fromEntries(Object.entries(claim.metrics).map(([name, { verdict: _metricVerdict, ...metric }]) => [name, metric])),
  }));
  return JSON.stringify({ ...report, claims }, null, 2);
}
