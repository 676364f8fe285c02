/**
 * Catastrophic overfitting of FGSM adversarial training (Wong, Rice & Kolter, "Fast is better than
 * free", ICLR 2020): within an epoch or so, the net learns to defeat its own single FGSM step while
 * PGD accuracy on the training examples collapses towards 0. Detected, as they do, from PGD
 * accuracy on a fixed training batch after each epoch (the PGD monitor of @advx/models).
 */

export interface OverfittingOptions {
  /** Largest allowed fall of PGD accuracy (absolute) from the best epoch so far to a later one. Default .3. */
  maxDrop?: number;
  /**
   * A fall to below `floor` from a best of at least `floorFrom` is a collapse too, however small:
   * a net whose PGD accuracy never passed .35 can still collapse to 0. Defaults .05 and .2.
   */
  floor?: number;
  floorFrom?: number;
}

export interface OverfittingCheck {
  status: 'pass' | 'fail' | 'n/a';
  /**
   * The fall judged, in absolute accuracy: on 'fail' the largest fall that broke its threshold, on
   * 'pass' the largest fall there was; 0 on 'n/a'.
   */
  value: number;
  /** What that fall was allowed: `maxDrop`, or best − `floor` where the floor rule is the stricter. */
  threshold: number;
  detail: string;
}

/** One epoch's reading, in run order; `epoch` numbers the whole run (both stages), strictly increasing. */
export interface PgdAccuracyPoint {
  epoch: number;
  pgdAccuracy: number;
}

const points = (x: number) => `${(x * 100).toFixed(1)}`;
const pct = (x: number) => `${points(x)}%`;

interface Fall {
  peak: PgdAccuracyPoint;
  at: PgdAccuracyPoint;
  fall: number;
  threshold: number;
}

function checkInput(history: readonly PgdAccuracyPoint[], maxDrop: number, floor: number, floorFrom: number): void {
  if (!(maxDrop > 0 && maxDrop <= 1)) throw new Error(`maxDrop must be in (0, 1], got ${maxDrop}`);
  if (!(floor >= 0 && floor < floorFrom && floorFrom <= 1)) throw new Error(`need 0 ≤ floor < floorFrom ≤ 1, got floor ${floor}, floorFrom ${floorFrom}`);
  history.forEach((p, i) => {
    if (!(p.pgdAccuracy >= 0 && p.pgdAccuracy <= 1)) throw new Error(`PGD accuracy must be in [0, 1], got ${p.pgdAccuracy} at epoch ${p.epoch}`);
    // Stage-local epoch numbers (1, 2, …, 1, 2, …) would silently reorder a run: refuse them.
    if (i > 0 && !(p.epoch > history[i - 1].epoch)) throw new Error(`epochs must increase (number them over the whole run), got ${history[i - 1].epoch} then ${p.epoch}`);
  });
}

/**
 * 'fail' when PGD accuracy falls, from its best epoch so far to any later epoch, by more than
 * `maxDrop`, or to below `floor` from a best of at least `floorFrom`; 'n/a' with fewer than two
 * readings (nothing can have fallen). Pure: the history is all it reads.
 */
export function catastrophicOverfitting(history: readonly PgdAccuracyPoint[], options: OverfittingOptions = {}): OverfittingCheck {
  const { maxDrop = 0.3, floor = 0.05, floorFrom = 0.2 } = options;
  checkInput(history, maxDrop, floor, floorFrom);
  if (history.length < 2) {
    const detail = history.length === 0 ? 'no PGD-monitor readings' : 'one PGD-monitor reading: nothing to fall from';
    return { status: 'n/a', value: 0, threshold: maxDrop, detail };
  }
  const falls: Fall[] = [];
  let peak = history[0];
  for (const at of history.slice(1)) {
    const threshold = peak.pgdAccuracy >= floorFrom ? Math.min(maxDrop, peak.pgdAccuracy - floor) : maxDrop;
    falls.push({ peak, at, fall: peak.pgdAccuracy - at.pgdAccuracy, threshold });
    if (at.pgdAccuracy > peak.pgdAccuracy) peak = at;
  }
  const largest = (candidates: Fall[]) => candidates.reduce((a, b) => (b.fall > a.fall ? b : a));
  const broken = falls.filter((f) => f.fall > f.threshold);
  const last = history[history.length - 1];
  if (broken.length > 0) {
    const f = largest(broken);
    const rule = f.threshold < maxDrop ? `to below the ${pct(floor)} floor` : `by more than ${points(maxDrop)} points`;
    return {
      status: 'fail',
      value: f.fall,
      threshold: f.threshold,
      detail: `PGD accuracy fell ${rule}: from ${pct(f.peak.pgdAccuracy)} (epoch ${f.peak.epoch}) to ${pct(f.at.pgdAccuracy)} (epoch ${f.at.epoch}); ${pct(last.pgdAccuracy)} at the last epoch (${last.epoch})`,
    };
  }
  const f = largest(falls);
  const best = history.reduce((a, b) => (b.pgdAccuracy > a.pgdAccuracy ? b : a));
  const summary = `PGD accuracy peaked at ${pct(best.pgdAccuracy)} (epoch ${best.epoch}) and ends at ${pct(last.pgdAccuracy)}`;
  // A run that only rose has no fall to judge: its threshold is the plain one.
  if (!(f.fall > 0)) return { status: 'pass', value: 0, threshold: maxDrop, detail: `${summary}; it never fell` };
  return {
    status: 'pass',
    value: f.fall,
    threshold: f.threshold,
    detail: `${summary}; its largest fall, ${points(f.fall)} points (epoch ${f.peak.epoch} to ${f.at.epoch}), is within ${points(f.threshold)}`,
  };
}
