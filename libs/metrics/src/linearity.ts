import * as tf from '@tensorflow/tfjs-core';

/**
 * Fig. 4 of Goodfellow, Shlens & Szegedy 2015: the logits along x + ε·sign(∇ₓJ) are "conspicuously
 * piecewise linear" in ε. `logitsAlongDirection` traces them; `piecewiseLinearFit` quantifies how
 * piecewise-linear a traced curve is.
 */

/**
 * Scores (logits) of x + ε·direction for every ε, in ONE batched forward pass of [epsilons.length, d].
 * x and direction are single flattened inputs [d] (direction is usually sign(∇ₓJ)); no clipping, as
 * in Fig. 4, whose large-ε end reaches rubbish inputs. Returns [ε index][class].
 */
export async function logitsAlongDirection(scoresFn: (x: tf.Tensor2D) => tf.Tensor2D, x: Float32Array, direction: Float32Array, epsilons: number[]): Promise<number[][]> {
  if (x.length !== direction.length) throw new Error(`x has ${x.length} values but direction has ${direction.length}`);
  if (epsilons.length === 0) return [];
  const d = x.length;
  const scores = tf.tidy(() => {
    const batch = tf.add(tf.reshape(tf.tensor1d(x), [1, d]), tf.matMul(tf.tensor2d(epsilons, [epsilons.length, 1]), tf.reshape(tf.tensor1d(direction), [1, d]))) as tf.Tensor2D;
    return scoresFn(batch);
  });
  try {
    const k = scores.shape[1];
    const values = await scores.data();
    return epsilons.map((_, e) => Array.from(values.subarray(e * k, (e + 1) * k)));
  } finally {
    scores.dispose();
  }
}

export interface PiecewiseFitOptions {
  /**
   * true (default): continuous segments (a linear spline, knots at grid points), which is what a
   * maxout/ReLU net's logit along a line is; false: independent segments, possibly with jumps.
   */
  continuous?: boolean;
  /** Fewest grid points each segment spans (default 3; keeps 2-point segments from fitting noise exactly). */
  minPointsPerSegment?: number;
}

export interface PiecewiseFit {
  /** Fraction of variance (R²) explained by the best fit with at most maxSegments segments. */
  r2: number;
  /** R² of the single least-squares line, for comparison. */
  r2Line: number;
  /** Best R² with exactly 1, 2, …, maxSegments segments (index 0 is the line). */
  r2BySegments: number[];
  /** Segments and interior breakpoints of the best fit: knot x values (continuous) or the x of each later segment's first point. */
  segments: number;
  breakpoints: number[];
  continuous: boolean;
}

/**
 * Best piecewise-linear least-squares fit of ys against xs with up to `maxSegments` segments, breakpoints
 * searched exhaustively on the grid of xs. Continuous fits enumerate knot sets (C(n, maxSegments−1)
 * least-squares solves: fine for ~100 points and ≤ 3 segments); discontinuous fits use exact dynamic
 * programming over contiguous runs.
 */
export function piecewiseLinearFit(xs: number[], ys: number[], maxSegments = 3, options: PiecewiseFitOptions = {}): PiecewiseFit {
  const { continuous = true, minPointsPerSegment = 3 } = options;
  if (xs.length !== ys.length) throw new Error(`xs has ${xs.length} values but ys has ${ys.length}`);
  if (!(Number.isInteger(maxSegments) && maxSegments >= 1)) throw new Error(`maxSegments must be a positive integer, got ${maxSegments}`);
  if (!(Number.isInteger(minPointsPerSegment) && minPointsPerSegment >= 2)) throw new Error(`minPointsPerSegment must be an integer ≥ 2, got ${minPointsPerSegment}`);
  if (xs.length < minPointsPerSegment) throw new Error(`need at least ${minPointsPerSegment} points (minPointsPerSegment)`);
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const x = order.map((i) => xs[i]);
  const y = order.map((i) => ys[i]);
  const n = x.length;
  const mean = y.reduce((a, b) => a + b, 0) / n;
  const sst = y.reduce((a, v) => a + (v - mean) ** 2, 0);
  const r2Of = (sse: number) => (sst > 0 ? 1 - sse / sst : sse <= 1e-12 ? 1 : 0);

  const best = continuous ? continuousFits(x, y, maxSegments, minPointsPerSegment) : discontinuousFits(x, y, maxSegments, minPointsPerSegment);
  const r2BySegments = best.map((b) => (b ? r2Of(b.sse) : NaN));
  let top = 0;
  r2BySegments.forEach((r, m) => {
    if (r > r2BySegments[top] + 1e-12) top = m;
  });
  return { r2: r2BySegments[top], r2Line: r2BySegments[0], r2BySegments, segments: top + 1, breakpoints: best[top]!.breakpoints, continuous };
}

type Fit = { sse: number; breakpoints: number[] } | null;

/** Linear splines: basis [1, x, (x − k₁)₊, …] with knots at grid points ≥ minPoints − 1 indices apart. */
function continuousFits(x: number[], y: number[], maxSegments: number, minPoints: number): Fit[] {
  const n = x.length;
  const results: Fit[] = [];
  for (let m = 1; m <= maxSegments; m++) {
    let bestFit: Fit = null;
    const knots: number[] = [];
    const visit = (from: number) => {
      if (knots.length === m - 1) {
        if (knots.length && n - 1 - knots[knots.length - 1] < minPoints - 1) return;
        const sse = splineSse(x, y, knots.map((k) => x[k]));
        if (sse !== null && (!bestFit || sse < bestFit.sse)) bestFit = { sse, breakpoints: knots.map((k) => x[k]) };
        return;
      }
      for (let k = from; k <= n - minPoints; k++) {
        if (knots.length && x[k] === x[knots[knots.length - 1]]) continue;
        knots.push(k);
        visit(k + minPoints - 1);
        knots.pop();
      }
    };
    visit(minPoints - 1);
    results.push(bestFit);
  }
  return results;
}

function splineSse(x: number[], y: number[], knots: number[]): number | null {
  const p = 2 + knots.length;
  const A = Array.from({ length: p }, () => new Float64Array(p + 1));
  const basis = new Float64Array(p);
  for (let i = 0; i < x.length; i++) {
    basis[0] = 1;
    basis[1] = x[i];
    knots.forEach((k, j) => (basis[2 + j] = Math.max(0, x[i] - k)));
    for (let r = 0; r < p; r++) {
      for (let c = 0; c < p; c++) A[r][c] += basis[r] * basis[c];
      A[r][p] += basis[r] * y[i];
    }
  }
  const coef = solve(A);
  if (!coef) return null;
  let sse = 0;
  for (let i = 0; i < x.length; i++) {
    let f = coef[0] + coef[1] * x[i];
    knots.forEach((k, j) => (f += coef[2 + j] * Math.max(0, x[i] - k)));
    sse += (y[i] - f) ** 2;
  }
  return sse;
}

/** Gaussian elimination with partial pivoting on an augmented [p, p + 1] system; null if singular. */
function solve(A: Float64Array[]): number[] | null {
  const p = A.length;
  const scale = Math.max(...A.map((row) => Math.max(...Array.from(row.subarray(0, p), Math.abs))));
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(A[r][c]) > Math.abs(A[pivot][c])) pivot = r;
    if (Math.abs(A[pivot][c]) <= 1e-12 * scale) return null;
    [A[c], A[pivot]] = [A[pivot], A[c]];
    for (let r = c + 1; r < p; r++) {
      const f = A[r][c] / A[c][c];
      for (let k = c; k <= p; k++) A[r][k] -= f * A[c][k];
    }
  }
  const out = new Array<number>(p).fill(0);
  for (let r = p - 1; r >= 0; r--) {
    let s = A[r][p];
    for (let k = r + 1; k < p; k++) s -= A[r][k] * out[k];
    out[r] = s / A[r][r];
  }
  return out;
}

/** Independent least-squares lines on contiguous runs; exact optimum by dynamic programming. */
function discontinuousFits(x: number[], y: number[], maxSegments: number, minPoints: number): Fit[] {
  const n = x.length;
  const prefix = (f: (i: number) => number) => {
    const out = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) out[i + 1] = out[i] + f(i);
    return out;
  };
  const S = { x: prefix((i) => x[i]), y: prefix((i) => y[i]), xx: prefix((i) => x[i] * x[i]), xy: prefix((i) => x[i] * y[i]), yy: prefix((i) => y[i] * y[i]) };
  /** SSE of the least-squares line through points [a, b). */
  const sse = (a: number, b: number) => {
    const m = b - a;
    const sx = S.x[b] - S.x[a];
    const sy = S.y[b] - S.y[a];
    const sxx = S.xx[b] - S.xx[a] - (sx * sx) / m;
    const sxy = S.xy[b] - S.xy[a] - (sx * sy) / m;
    const syy = S.yy[b] - S.yy[a] - (sy * sy) / m;
    return Math.max(0, sxx > 1e-15 ? syy - (sxy * sxy) / sxx : syy);
  };
  // cost[m][j]: best SSE of the first j points in m segments; from[m][j]: where the last segment starts.
  const cost = Array.from({ length: maxSegments + 1 }, () => new Float64Array(n + 1).fill(Infinity));
  const from = Array.from({ length: maxSegments + 1 }, () => new Int32Array(n + 1).fill(-1));
  cost[0][0] = 0;
  for (let m = 1; m <= maxSegments; m++)
    for (let j = m * minPoints; j <= n; j++)
      for (let i = (m - 1) * minPoints; i <= j - minPoints; i++) {
        if (!Number.isFinite(cost[m - 1][i])) continue;
        const c = cost[m - 1][i] + sse(i, j);
        if (c < cost[m][j]) {
          cost[m][j] = c;
          from[m][j] = i;
        }
      }
  const results: Fit[] = [];
  for (let m = 1; m <= maxSegments; m++) {
    if (!Number.isFinite(cost[m][n])) {
      results.push(null);
      continue;
    }
    const breakpoints: number[] = [];
    let j = n;
    for (let k = m; k > 1; k--) {
      j = from[k][j];
      breakpoints.unshift(x[j]);
    }
    results.push({ sse: cost[m][n], breakpoints });
  }
  return results;
}
