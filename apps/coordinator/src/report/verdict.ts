import type { CheckStatus } from '@advx/metrics';
import type { MetricClaim } from '../catalogue/experiments/types.js';
import type { UnitState } from '../schedule/status.js';
import { formatMetric, type MetricUnit } from '../support/metric-format.js';

/**
 * A claim's and a metric's verdict as values, and the one place they become words (report.json's
 * and report.md's `status`) and badge tones (report.html). Nothing reads a verdict back from its words.
 */
export type MetricVerdict =
  | { kind: 'no-data' }
  /** The paper gives no value; ours is reported alone. */
  | { kind: 'ours-only' }
  /** The paper states a bound and ours lies on its side. */
  | { kind: 'holds'; bound: 'atLeast' | 'atMost'; paper: number }
  /** Ours lies `by` (≥ 0) beyond the paper's bound. */
  | { kind: 'fails'; bound: 'atLeast' | 'atMost'; by: number }
  | { kind: 'within'; tolerance: number }
  /** `by` = ours − paper; tolerance null when the claim states none. */
  | { kind: 'off'; by: number; tolerance: number | null };

export type ClaimVerdict = { kind: 'no-data' } | { kind: 'ours-only' } | { kind: 'reproduced' } | { kind: 'differs'; metrics: string[] };

/** How report.html colours a verdict or a unit state. */
export type Tone = 'ok' | 'warn' | 'bad' | 'muted';

export function metricVerdict(claim: MetricClaim, mean: number, n: number): MetricVerdict {
  if (n === 0) return { kind: 'no-data' };
  if (claim.paper === null) return { kind: 'ours-only' };
  const diff = mean - claim.paper;
  if (claim.bound === 'atLeast') return diff >= 0 ? { kind: 'holds', bound: 'atLeast', paper: claim.paper } : { kind: 'fails', bound: 'atLeast', by: -diff };
  if (claim.bound === 'atMost') return diff <= 0 ? { kind: 'holds', bound: 'atMost', paper: claim.paper } : { kind: 'fails', bound: 'atMost', by: diff };
  if (claim.tolerance !== undefined && Math.abs(diff) <= claim.tolerance) return { kind: 'within', tolerance: claim.tolerance };
  return { kind: 'off', by: diff, tolerance: claim.tolerance ?? null };
}

export const isReproduced = (verdict: MetricVerdict): boolean => verdict.kind === 'within' || verdict.kind === 'holds';

/**
 * A claim is decided by its metrics that the paper gives a value for and that have data, apart from
 * alternatives (another reading, shown beside). A claim whose metrics are all ours-only (P17, P19)
 * has data even though nothing is compared.
 */
export function claimVerdict(metrics: Record<string, { paper: number | null; n: number; alternative: string | null; verdict: MetricVerdict }>): ClaimVerdict {
  const compared = Object.entries(metrics).filter(([, m]) => m.paper !== null && m.n > 0 && m.alternative === null);
  if (compared.length === 0) return Object.values(metrics).some((m) => m.n > 0) ? { kind: 'ours-only' } : { kind: 'no-data' };
  const differing = compared.filter(([, m]) => !isReproduced(m.verdict)).map(([name]) => name);
  return differing.length === 0 ? { kind: 'reproduced' } : { kind: 'differs', metrics: differing };
}

/** A difference: percentage points for a rate, the number itself for a plain one. */
const difference = (x: number, unit: MetricUnit) => (unit === 'fraction' ? `${(x * 100).toFixed(2)} pp` : formatMetric(x, unit));

export function metricStatus(verdict: MetricVerdict, unit: MetricUnit = 'fraction'): string {
  const pp = (x: number) => difference(x, unit);
  const percent = (x: number) => formatMetric(x, unit);
  switch (verdict.kind) {
    case 'no-data':
      return 'no data';
    case 'ours-only':
      return 'ours only';
    case 'holds':
      return `holds (${verdict.bound === 'atLeast' ? '≥' : '≤'} ${percent(verdict.paper)})`;
    case 'fails':
      return `fails: ${pp(verdict.by)} ${verdict.bound === 'atLeast' ? 'below' : 'above'} the bound`;
    case 'within':
      return `within tolerance (±${pp(verdict.tolerance)})`;
    case 'off':
      return `off by ${verdict.by >= 0 ? '+' : '−'}${pp(Math.abs(verdict.by))}${verdict.tolerance !== null ? ` (tolerance ±${pp(verdict.tolerance)})` : ''}`;
  }
}

export function claimStatus(verdict: ClaimVerdict): string {
  switch (verdict.kind) {
    case 'no-data':
      return 'no data';
    case 'ours-only':
      return 'ours only';
    case 'reproduced':
      return 'reproduced';
    case 'differs':
      return `differs: ${verdict.metrics.join(', ')}`;
  }
}

// Bounds (holds, fails) stay muted, as report.html showed them before verdicts were values.
const METRIC_TONES: Record<MetricVerdict['kind'], Tone> = { 'no-data': 'muted', 'ours-only': 'muted', holds: 'muted', fails: 'muted', within: 'ok', off: 'warn' };
const CLAIM_TONES: Record<ClaimVerdict['kind'], Tone> = { 'no-data': 'muted', 'ours-only': 'muted', reproduced: 'ok', differs: 'warn' };

export const metricTone = (verdict: MetricVerdict): Tone => METRIC_TONES[verdict.kind];
export const claimTone = (verdict: ClaimVerdict): Tone => CLAIM_TONES[verdict.kind];

const RUN_TONES: Record<UnitState, Tone> = { pending: 'muted', running: 'muted', retrying: 'muted', done: 'ok', cached: 'ok', failed: 'bad', skipped: 'muted', cancelled: 'muted' };

export const runTone = (state: UnitState): Tone => RUN_TONES[state];

const CHECK_TONES: Record<CheckStatus, Tone> = { pass: 'ok', fail: 'bad', 'n/a': 'muted' };

export const checkTone = (status: CheckStatus): Tone => CHECK_TONES[status];
