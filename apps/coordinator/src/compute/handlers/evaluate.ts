import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@advx/data';
import { AgreementAccumulator, ClassificationAccumulator } from '@advx/metrics';
import { asAttackTarget } from '@advx/models';
import { decode, encode } from '../../units/codec.js';
import { writeFileAtomic } from '../../support/atomic-write.js';
import type { Metrics } from '../../units/types.js';
import { craft } from './craft.js';
import { craftedPath, unitFilesLayout } from '../../units/files.js';
import { readVerified } from '../../units/integrity.js';
import { collectBatches, flatSize, forEachBatch, loadPredictor, readResult, unitData, type Handler, type WorkerContext } from './context.js';


/** The random stream an attack draws from (PGD's start), the same whether crafted inline or by a craft unit. */
const attackRng = (seed: number) => Rng.fromSeed(seed).fork('attack');

/** A craft unit's output: the adversarial examples of a split, in order, and the source's predictions on them. */
export interface CraftedExamples {
  count: number;
  width: number;
  images: Float32Array;
  sourcePredictions: Int32Array;
}

/**
 * A craft unit's examples, checked against the SHA-256 its result records (else a
 * CorruptArtifactError). msgpackr stores typed arrays as raw bytes; copy them into aligned arrays of
 * the right type.
 */
async function readCrafted(context: WorkerContext, craftKey: string, count: number, width: number): Promise<CraftedExamples> {
  const path = craftedPath(context.runsDir, craftKey);
  const { directory, marker } = unitFilesLayout('craft')!;
  const bytes = await readVerified(context.runsDir, craftKey, `${directory}/${marker}`, (await readResult(context, craftKey)).files);
  const stored = decode<{ count: number; width: number; images: Uint8Array; sourcePredictions: Uint8Array }>(bytes);
  if (stored.count !== count || stored.width !== width) {
    throw new Error(`${path} holds ${stored.count} examples of width ${stored.width}; this unit's split has ${count} of width ${width}`);
  }
  const typed = <T>(bytes: Uint8Array, make: (buffer: ArrayBuffer) => T) => make(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  return { count, width, images: typed(stored.images, (b) => new Float32Array(b)), sourcePredictions: typed(stored.sourcePredictions, (b) => new Int32Array(b)) };
}

/**
 * Crafts adversarial examples on a source model once, for every evaluation that reads them (a row
 * of a transfer matrix), and stores them with the source's own predictions and error.
 */
export const runCraft: Handler<'craft'> = async (context, unit) => {
  const { config } = unit;
  const data = unitData(context, config.dataset, config.split);
  const width = flatSize(data);
  const source = await loadPredictor(context, config.source);
  const rng = attackRng(config.seed);
  const sourceResult = new ClassificationAccumulator();
  try {
    const target = asAttackTarget(source.predictor);
    const crafted: CraftedExamples = { count: data.count, width, images: new Float32Array(data.count * width), sourcePredictions: new Int32Array(data.count) };
    await collectBatches(
      data,
      (x, labels) => {
        const adversarial = craft(target, x, labels, config.attack, rng, data.shape);
        const scores = source.predictor.scores(adversarial);
        const predictions = source.predictor.predict(scores);
        sourceResult.add(predictions, labels, source.predictor.confidence(scores));
        return [adversarial, predictions];
      },
      ([adversarial, predictions], start) => {
        crafted.images.set(adversarial, start * width);
        crafted.sourcePredictions.set(predictions, start);
      },
    );
    await writeFileAtomic(craftedPath(context.runsDir, unit.key), encode(crafted));
    const s = await sourceResult.result();
    return { metrics: { count: s.count, source_adv_error: s.error, source_adv_confidence: s.confidence } };
  } finally {
    sourceResult.dispose();
    source.dispose();
  }
};

export const runEvaluate: Handler<'evaluate'> = async (context, unit) => {
  const { config } = unit;
  const data = unitData(context, config.dataset, config.split);
  const width = flatSize(data);
  const sameModel = config.source.join() === config.target.join();
  // Examples crafted by a craft unit replace crafting here; the source model is then not needed.
  const crafted = config.craftUnit ? await readCrafted(context, config.craftUnit, data.count, width) : null;
  const source = config.attack && !crafted ? await loadPredictor(context, config.source, config.inference) : null;
  const target = source && sameModel ? source : await loadPredictor(context, config.target, config.inference);
  const rng = attackRng(config.seed);
  const clean = new ClassificationAccumulator();
  const adversarial = new ClassificationAccumulator();
  const agreement = new AgreementAccumulator();
  const reference = config.reference && config.attack ? await loadPredictor(context, config.reference, config.inference) : null;
  const referenceAgreement = reference ? new AgreementAccumulator() : null;
  try {
    const model = target.predictor;
    const attackSource = source ? asAttackTarget(source.predictor) : null;
    forEachBatch(data, (x, labels, start, count) => {
      const scores = model.scores(x);
      clean.add(model.predict(scores), labels, model.confidence(scores));
      if (!config.attack) return;
      // The paper's FGSM uses the true label y in J(θ, x, y).
      const xAdv = crafted ? tf.tensor2d(crafted.images.subarray(start * width, (start + count) * width), [count, width]) : craft(attackSource!, x, labels, config.attack, rng, data.shape);
      const advScores = model.scores(xAdv);
      const targetPrediction = model.predict(advScores);
      adversarial.add(targetPrediction, labels, model.confidence(advScores));
      const sourcePrediction = crafted
        ? tf.tensor1d(crafted.sourcePredictions.subarray(start, start + count), 'int32')
        : sameModel
          ? targetPrediction
          : source!.predictor.predict(source!.predictor.scores(xAdv));
      agreement.add(labels, sourcePrediction, targetPrediction);
      if (reference) referenceAgreement!.add(labels, reference.predictor.predict(reference.predictor.scores(xAdv)), targetPrediction);
    });
    const c = await clean.result();
    const metrics: Metrics = { clean_error: c.error, clean_confidence: c.confidence, count: c.count };
    if (config.attack) {
      const a = await adversarial.result();
      const g = await agreement.result();
      Object.assign(metrics, {
        adv_error: a.error,
        adv_confidence: a.confidence,
        adv_confidence_on_errors: a.confidenceOnErrors,
        source_adv_error: g.sourceError,
        agreement: g.agreement,
        agreement_both_wrong: g.agreementBothWrong,
      });
      if (referenceAgreement) {
        const r = await referenceAgreement.result();
        // Among examples the reference misclassifies / both misclassify: the target predicts the reference's class.
        Object.assign(metrics, { reference_adv_error: r.sourceError, reference_agreement: r.agreement, reference_agreement_both_wrong: r.agreementBothWrong });
      }
    }
    return { metrics };
  } finally {
    clean.dispose();
    adversarial.dispose();
    agreement.dispose();
    referenceAgreement?.dispose();
    reference?.dispose();
    source?.dispose();
    if (target !== source) target.dispose();
  }
};
