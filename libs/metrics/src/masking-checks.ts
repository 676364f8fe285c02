/**
 * The gradient-masking battery: pass/fail checks on one model × seed, computed from the rates its
 * probes measured (maskingProbes in @advx/attacks). A model that fails one is not shown to be robust
 * by its white-box error, whatever that is (Carlini et al. 2019, §4; Athalye et al. 2018). Rates are
 * fractions of the `count` examples probed.
 *
 * Comparisons of two error rates allow for sampling noise: a difference counts only beyond
 * z · √((p₁(1 − p₁) + p₂(1 − p₂)) / n), with a floor (both stated as options and in each detail).
 */

export type MaskingCheckId =
  | 'monotone-eps'
  | 'iterative-beats-single'
  | 'unbounded-reaches-100'
  | 'transfer-below-whitebox'
  | 'black-box-below-white-box'
  | 'more-steps-no-change'
  | 'zero-gradients';

export const MASKING_CHECK_IDS: readonly MaskingCheckId[] = [
  'monotone-eps',
  'iterative-beats-single',
  'unbounded-reaches-100',
  'transfer-below-whitebox',
  'black-box-below-white-box',
  'more-steps-no-change',
  'zero-gradients',
];

export type CheckStatus = 'pass' | 'fail' | 'n/a';

export interface CheckOutcome<Id extends string = MaskingCheckId> {
  id: Id;
  status: CheckStatus;
  /** The measured quantity the threshold applies to (null when n/a). */
  value: number | null;
  threshold: number | null;
  detail: string;
}

export interface MaskingMeasurements {
  count: number;
  /** The ε of the per-example comparisons. */
  eps: number;
  /** The ε grid and the FGSM and PGD error at each point. */
  epsilons: number[];
  fgsmCurve: number[];
  pgdCurve: number[];
  fgsm: number;
  bim: number;
  pgd: number;
  apgd: number;
  /** Fraction of examples FGSM fools and none of BIM, PGD, APGD-CE does. */
  fgsmOnly: number;
  square: number;
  /** Twice the iterations and two restarts. */
  pgdMore: number;
  apgdMore: number;
  /** PGD with ε spanning the whole input box. */
  unbounded: number;
  /** Fraction of examples whose input gradient is exactly zero. */
  zeroGradient: number;
  /** Examples crafted on other models (named) and judged by this one. */
  transfers: { from: string; fgsm: number; pgd: number }[];
}

export interface MaskingThresholds {
  /** z of the noise band of a difference of two rates (default 3). */
  noiseZ: number;
  /** Smallest difference of two rates that counts (default .01). */
  noiseFloor: number;
  /** Largest fraction of examples that FGSM may fool and every iterative attack miss (default .01). */
  fgsmOnly: number;
  /** Smallest error of the unbounded attack (default .99). */
  unboundedError: number;
  /** Largest rise in error from doubling iterations and restarts (the stated δ, default .02). */
  moreSteps: number;
  /** Largest fraction of examples with an exactly zero input gradient (default .01). */
  zeroGradient: number;
}

export const DEFAULT_MASKING_THRESHOLDS: MaskingThresholds = { noiseZ: 3, noiseFloor: 0.01, fgsmOnly: 0.01, unboundedError: 0.99, moreSteps: 0.02, zeroGradient: 0.01 };

const pct = (rate: number) => `${(100 * rate).toFixed(1)}%`;

/** The band within which two rates on n examples are not told apart. */
export function noiseBand(p1: number, p2: number, n: number, { noiseZ, noiseFloor }: Pick<MaskingThresholds, 'noiseZ' | 'noiseFloor'> = DEFAULT_MASKING_THRESHOLDS): number {
  const variance = (p1 * (1 - p1) + p2 * (1 - p2)) / Math.max(n, 1);
  return Math.max(noiseFloor, noiseZ * Math.sqrt(variance));
}

/** "higher must not exceed lower": the excess beyond the noise band, as a check. */
function notAbove<Id extends MaskingCheckId>(id: Id, higher: number, lower: number, n: number, t: MaskingThresholds, describe: (excess: number, band: number) => string): CheckOutcome<Id> {
  const band = noiseBand(higher, lower, n, t);
  const excess = higher - lower;
  return { id, status: excess > band ? 'fail' : 'pass', value: excess, threshold: band, detail: describe(excess, band) };
}

function monotoneEps(m: MaskingMeasurements, t: MaskingThresholds): CheckOutcome<'monotone-eps'> {
  if (m.epsilons.length < 2) return { id: 'monotone-eps', status: 'n/a', value: null, threshold: null, detail: 'fewer than two ε probed' };
  // The worst drop relative to its band: error at a larger ε below the error at a smaller one.
  let worst = { ratio: -Infinity, drop: 0, band: 0, attack: '', from: 0, to: 0, high: 0, low: 0 };
  for (const [attack, curve] of [['FGSM', m.fgsmCurve], ['PGD', m.pgdCurve]] as const) {
    for (let j = 1; j < curve.length; j++)
      for (let i = 0; i < j; i++) {
        const drop = curve[i] - curve[j];
        const band = noiseBand(curve[i], curve[j], m.count, t);
        if (drop / band > worst.ratio) worst = { ratio: drop / band, drop, band, attack, from: m.epsilons[i], to: m.epsilons[j], high: curve[i], low: curve[j] };
      }
  }
  const fails = worst.drop > worst.band;
  const detail = fails
    ? `${worst.attack} error falls from ${pct(worst.high)} at ε = ${worst.from} to ${pct(worst.low)} at ε = ${worst.to} (noise band ${pct(worst.band)})`
    : `FGSM and PGD error never fall with ε beyond the noise band (ε = ${m.epsilons.join(', ')})`;
  return { id: 'monotone-eps', status: fails ? 'fail' : 'pass', value: worst.drop, threshold: worst.band, detail };
}

/** The battery's checks for one model × seed, in MASKING_CHECK_IDS' order. */
export function maskingChecks(m: MaskingMeasurements, thresholds: Partial<MaskingThresholds> = {}): CheckOutcome[] {
  const t = { ...DEFAULT_MASKING_THRESHOLDS, ...thresholds };
  const n = m.count;
  const whiteBox = Math.max(m.pgd, m.apgd);
  const transfer = (): CheckOutcome<'transfer-below-whitebox'> => {
    if (m.transfers.length === 0) return { id: 'transfer-below-whitebox', status: 'n/a', value: null, threshold: null, detail: 'no transfer source declared' };
    const pairs = m.transfers.flatMap((s) => [
      { label: `FGSM from ${s.from}`, higher: s.fgsm, lower: m.fgsm },
      { label: `PGD from ${s.from}`, higher: s.pgd, lower: m.pgd },
    ]);
    const scored = pairs.map((p) => ({ ...p, band: noiseBand(p.higher, p.lower, n, t) }));
    const worst = scored.reduce((a, b) => ((b.higher - b.lower) / b.band > (a.higher - a.lower) / a.band ? b : a));
    return notAbove('transfer-below-whitebox', worst.higher, worst.lower, n, t, (excess) =>
      excess > worst.band ? `${worst.label}: ${pct(worst.higher)} error, above the same attack white-box (${pct(worst.lower)})` : `transferred FGSM and PGD stay at or below white-box (worst: ${worst.label}, ${pct(worst.higher)} against ${pct(worst.lower)})`,
    );
  };
  const fgsmOnlyFails = m.fgsmOnly > t.fgsmOnly;
  const unboundedFails = m.unbounded < t.unboundedError;
  const moreSteps = Math.max(m.pgdMore - m.pgd, m.apgdMore - m.apgd);
  const zeroFails = m.zeroGradient > t.zeroGradient;
  return [
    monotoneEps(m, t),
    {
      id: 'iterative-beats-single',
      status: fgsmOnlyFails ? 'fail' : 'pass',
      value: m.fgsmOnly,
      threshold: t.fgsmOnly,
      detail: `FGSM fools ${pct(m.fgsmOnly)} of examples that BIM, PGD and APGD-CE all miss (FGSM ${pct(m.fgsm)}, PGD ${pct(m.pgd)}, APGD-CE ${pct(m.apgd)})`,
    },
    {
      id: 'unbounded-reaches-100',
      status: unboundedFails ? 'fail' : 'pass',
      value: m.unbounded,
      threshold: t.unboundedError,
      detail: `PGD over the whole input box reaches ${pct(m.unbounded)} error${unboundedFails ? ': gradients do not lead the attack out of the class' : ''}`,
    },
    transfer(),
    notAbove('black-box-below-white-box', m.square, whiteBox, n, t, (excess, band) =>
      excess > band ? `Square (no gradients) reaches ${pct(m.square)}, above PGD/APGD-CE's ${pct(whiteBox)}` : `Square ${pct(m.square)} ≤ PGD/APGD-CE ${pct(whiteBox)} within noise`,
    ),
    {
      id: 'more-steps-no-change',
      status: moreSteps > t.moreSteps ? 'fail' : 'pass',
      value: moreSteps,
      threshold: t.moreSteps,
      detail: `twice the iterations and two restarts: PGD ${pct(m.pgd)} → ${pct(m.pgdMore)}, APGD-CE ${pct(m.apgd)} → ${pct(m.apgdMore)}`,
    },
    {
      id: 'zero-gradients',
      status: zeroFails ? 'fail' : 'pass',
      value: m.zeroGradient,
      threshold: t.zeroGradient,
      detail: `${pct(m.zeroGradient)} of examples have an input gradient of exactly zero`,
    },
  ];
}
