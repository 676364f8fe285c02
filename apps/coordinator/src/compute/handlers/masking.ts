import { Rng } from '@advx/data';
import { MaskingAccumulator, maskingProbes } from '@advx/attacks';
import { asAttackTarget } from '@advx/models';
import type { MaskingArtifacts } from '../../units/artifacts.js';
import { forEachBatch, withModelAndTestData, type Handler } from './context.js';

/**
 * The gradient-masking battery's probes on one model (@advx/attacks maskingProbes); the report turns
 * them into pass/fail checks (@advx/metrics maskingChecks). Metrics are error rates over the test
 * split (zero_gradient: the fraction of examples whose input gradient is exactly 0); the ε curves are
 * artifacts. The transfer checks read evaluate units planned beside it.
 */
export const runMasking: Handler<'masking'> = async (context, unit) => {
  const { config } = unit;
  return withModelAndTestData(context, config.dataset, config.model, async (predictor, data) => {
      const target = asAttackTarget(predictor);
      const options = { eps: config.eps, epsilons: config.epsilons, steps: config.steps, queries: config.queries, imageShape: data.shape, clipMin: 0, clipMax: 1, rng: Rng.fromSeed(config.seed).fork('masking') };
      const accumulator = new MaskingAccumulator(options);
      try {
        forEachBatch(data, (x, labels, _start, count) => accumulator.add(maskingProbes(target, x, labels, options), count));
        const r = await accumulator.result();
        const artifacts: MaskingArtifacts = { epsilons: r.epsilons, fgsmCurve: r.fgsmCurve, pgdCurve: r.pgdCurve };
        return {
          metrics: {
            count: r.count,
            fgsm_error: r.fgsm,
            bim_error: r.bim,
            pgd_error: r.pgd,
            apgd_error: r.apgd,
            fgsm_only: r.fgsmOnly,
            square_error: r.square,
            pgd_more_error: r.pgdMore,
            apgd_more_error: r.apgdMore,
            unbounded_error: r.unbounded,
            zero_gradient: r.zeroGradient,
          },
          artifacts,
        };
      } finally {
        accumulator.dispose();
      }
  });
};

/** The metrics a masking unit reports, in the order above (the catalogue's tests check claims name one). */
export const MASKING_METRICS = ['count', 'fgsm_error', 'bim_error', 'pgd_error', 'apgd_error', 'fgsm_only', 'square_error', 'pgd_more_error', 'apgd_more_error', 'unbounded_error', 'zero_gradient'] as const;
