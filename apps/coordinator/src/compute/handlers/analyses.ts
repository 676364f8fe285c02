import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@advx/data';
import { exactSign, fgsm, foolingRun, lossGradient, rubbishExamples } from '@advx/attacks';
import { firstOrderExamples, firstOrderMetric, logitsAlongDirection, piecewiseLinearFit, rubbishStats, summarizeFirstOrder } from '@advx/metrics';
import { Classifier, asAttackTarget } from '@advx/models';
import type { ExamplesArtifacts, FoolingArtifacts, LinearityArtifacts, RubbishArtifacts } from '../../units/artifacts.js';
import { withModelAndTestData, type Handler } from './context.js';
import { craft } from './craft.js';

/** Analyses of one trained model behind the paper's figures and its rubbish and fooling claims. */

/** Rounds for artifacts: figures need 4 digits, and result.json stays small. */
const rounded = (values: ArrayLike<number>) => Array.from(values, (v) => Math.round(v * 1e4) / 1e4);

export const runExamples: Handler<'examples'> = async (context, unit) => {
  const { config } = unit;
  return withModelAndTestData(context, config.dataset, config.model, async (predictor, data, width) => {
    const n = Math.min(config.count, data.count);
    const tensors = tf.tidy(() => {
      const target = asAttackTarget(predictor);
      const x = tf.tensor2d(data.images.subarray(0, n * width), [n, width]);
      const labels = tf.tensor1d(data.labels.subarray(0, n), 'int32');
      const gradientSign = exactSign(lossGradient(target, x, predictor.targets(labels), false));
      const xAdv = craft(target, x, labels, config.attack, Rng.fromSeed(config.seed).fork('attack'), data.shape);
      const scores = predictor.scores(x);
      const advScores = predictor.scores(xAdv);
      return [x, gradientSign, xAdv, predictor.predict(scores), predictor.confidence(scores), predictor.predict(advScores), predictor.confidence(advScores)];
    });
    const [clean, gradientSign, adversarial, cleanPrediction, cleanConfidence, adversarialPrediction, adversarialConfidence] = await Promise.all(tensors.map((t) => t.data()));
    tf.dispose(tensors);
    const rows = (values: ArrayLike<number>) => Array.from({ length: n }, (_, i) => rounded(Array.prototype.slice.call(values, i * width, (i + 1) * width)));
    const artifacts: ExamplesArtifacts = {
      shape: data.shape,
      eps: config.attack.eps,
      classNames: config.dataset.classes ? config.dataset.classes.map(String) : data.classNames,
      labels: Array.from(data.labels.subarray(0, n)),
      clean: rows(clean),
      gradientSign: rows(gradientSign),
      adversarial: rows(adversarial),
      cleanPrediction: Array.from(cleanPrediction),
      cleanConfidence: rounded(cleanConfidence),
      adversarialPrediction: Array.from(adversarialPrediction),
      adversarialConfidence: rounded(adversarialConfidence),
    };
    if (config.weights && predictor instanceof Classifier) artifacts.weights = await firstLayerFilters(predictor, FIG3_UNITS);
    return { metrics: { count: n }, artifacts };
  });
};

/** Fig. 3 shows the first few units of the first layer, each as its row of pieces. */
const FIG3_UNITS = 8;

async function firstLayerFilters(model: Classifier, units: number): Promise<{ images: number[][]; pieces: number }> {
  const pieces = model.spec.hidden[0]?.pieces ?? 1;
  const weights = model.firstLayerWeights;
  const columns = Math.min(weights.shape[1], units * pieces);
  const filters = tf.tidy(() => tf.transpose(tf.slice(weights, [0, 0], [-1, columns])));
  const values = (await filters.array()) as number[][];
  filters.dispose();
  return { images: values.map(rounded), pieces };
}

export const runRubbish: Handler<'rubbish'> = async (context, unit) => {
  const { config } = unit;
  return withModelAndTestData(context, config.dataset, config.model, async (predictor, data, width) => {
    const numClasses = data.numClasses;
    const samples = rubbishExamples(Rng.fromSeed(config.seed).fork('rubbish'), config.count, width);
    // A model trained with an extra "none" output (App. A) may call rubbish "none"; only real classes count as errors.
    const hasNoneClass = predictor.outputs === numClasses + 1;
    const probabilities = tf.tidy(() => {
      let x = tf.tensor2d(samples, [config.count, width]);
      if (config.attack) {
        // FGSM on rubbish pushes it away from "none" (or from whatever the model calls it); inputs are not images, so no clipping.
        const labels = hasNoneClass ? tf.fill([config.count], numClasses, 'int32') as tf.Tensor1D : undefined;
        x = fgsm(asAttackTarget(predictor), x, { eps: config.attack.eps, labels, clipMin: -Infinity, clipMax: Infinity });
      }
      const p = predictor.probabilities(predictor.scores(x));
      return hasNoneClass ? (tf.slice(p, [0, 0], [-1, numClasses]) as tf.Tensor2D) : p;
    });
    const stats = await rubbishStats(probabilities);
    probabilities.dispose();
    const falsePositives = stats.classHistogram.reduce((a, b) => a + b, 0);
    const artifacts: RubbishArtifacts = { classHistogram: stats.classHistogram };
    return {
      metrics: {
        false_positive_rate: stats.falsePositiveRate,
        confidence_on_false_positives: Number.isFinite(stats.meanConfidenceOnFalsePositives) ? stats.meanConfidenceOnFalsePositives : null,
        fraction_class_5: falsePositives ? stats.classHistogram[5] / falsePositives : null,
        fraction_class_8: falsePositives ? stats.classHistogram[8] / falsePositives : null,
        count: config.count,
      },
      artifacts,
    };
  });
};

export const runLinearity: Handler<'linearity'> = async (context, unit) => {
  const { config } = unit;
  return withModelAndTestData(context, config.dataset, config.model, async (predictor, data, width) => {
    const x = data.images.slice(config.exampleIndex * width, (config.exampleIndex + 1) * width);
    const label = data.labels[config.exampleIndex];
    const sign = tf.tidy(() => {
      const input = tf.tensor2d(x, [1, width]);
      return exactSign(lossGradient(asAttackTarget(predictor), input, predictor.targets(tf.tensor1d([label], 'int32')), false));
    });
    const direction = (await sign.data()) as Float32Array;
    sign.dispose();
    const epsilons = Array.from({ length: config.points }, (_, i) => -config.epsMax + (2 * config.epsMax * i) / (config.points - 1));
    const logits = await logitsAlongDirection((input) => predictor.scores(input), x, direction, epsilons);
    const fits = logits[0].map((_, c) => piecewiseLinearFit(epsilons, logits.map((row) => row[c]), 3));
    const artifacts: LinearityArtifacts = { epsilons: rounded(epsilons), logits: logits.map(rounded), label };
    return {
      metrics: {
        piecewise_r2_mean: fits.reduce((a, f) => a + f.r2, 0) / fits.length,
        piecewise_r2_min: Math.min(...fits.map((f) => f.r2)),
        linear_r2_mean: fits.reduce((a, f) => a + f.r2Line, 0) / fits.length,
      },
      artifacts,
    };
  });
};

export const runFirstOrder: Handler<'first-order'> = async (context, unit) => {
  const { config } = unit;
  return withModelAndTestData(context, config.dataset, config.model, async (predictor, data, width) => {
    const examples = tf.tidy(() => [tf.tensor2d(data.images.subarray(0, data.count * width), [data.count, width]), tf.tensor1d(data.labels.subarray(0, data.count), 'int32')] as const);
    const [x, labels] = examples;
    try {
      const summary = summarizeFirstOrder(await firstOrderExamples((input) => predictor.scores(input), x, labels, config.epsilons), config.epsilons);
      const finite = (v: number) => (Number.isFinite(v) ? v : null);
      return {
        metrics: {
          count: data.count,
          nonfinite_count: summary.nonFinite,
          median_margin: finite(summary.medianMargin),
          median_gradient_l1: finite(summary.medianGradientL1),
          median_eps_star: finite(summary.medianEpsStar),
          ...Object.fromEntries(
            config.epsilons.flatMap((eps, e) => [
              [firstOrderMetric('runner_up_linear_error', eps), finite(summary.runnerUpLinearError[e])],
              [firstOrderMetric('runner_up_step_error', eps), finite(summary.runnerUpStepError[e])],
              [firstOrderMetric('median_drop_ratio', eps), finite(summary.medianDropRatio[e])],
            ]),
          ),
        },
      };
    } finally {
      tf.dispose([x, labels]);
    }
  });
};

export const runFooling: Handler<'fooling'> = async (context, unit) => {
  const { config } = unit;
  return withModelAndTestData(context, config.dataset, config.model, async (predictor, data, width) => {
    const classes = Array.from({ length: data.numClasses }, (_, i) => i);
    const result = await foolingRun(predictor, Rng.fromSeed(config.seed).fork('fooling'), { classes, samplesPerClass: config.samplesPerClass, eps: config.eps, maxSteps: config.maxSteps, inputSize: width });
    const success = result.successRateByClass;
    const perStep = result.perStepSuccessRateByClass;
    const artifacts: FoolingArtifacts = {
      shape: data.shape,
      examples: classes.map((c) => rounded(result.examples.subarray(c * width, (c + 1) * width))),
      successByClass: success,
    };
    return {
      metrics: {
        success_mean: success.reduce((a, b) => a + b, 0) / success.length,
        success_min: Math.min(...success),
        // The paper's CIFAR-10 numbers are per step: the chance that one step from fresh noise succeeds.
        per_step_success_mean: perStep.reduce((a, b) => a + b, 0) / perStep.length,
        per_step_success_min: Math.min(...perStep),
        ...Object.fromEntries(success.map((s, c) => [`success_class_${c}`, s])),
      },
      artifacts,
    };
  });
};
