export { selectBackend, kernelThreads, isBackendName, BACKEND_PREFERENCE, type BackendName, type BackendInfo } from './backend.js';
export { Classifier, sigmoidCrossEntropy, type DropoutMasks } from './classifier.js';
export { softmaxRegressionSpec, logisticRegressionSpec, maxoutSpec, rbfSpec, type ModelSpec, type Head, type HiddenLayerSpec, type MaxoutLayerSpec } from './spec.js';
export { train, type TrainConfig, type TrainData, type Objective, type EpochReport, type TrainHooks } from './train.js';
export { asAttackTarget } from './attack-target.js';
export { Ensemble, type Predictor } from './ensemble.js';
export { saveModel, loadModel } from './serialize.js';
export { convMaxoutSpec, convGeometry, convMaxoutForward, type ConvGeometry } from './conv-maxout.js';
export type { ConvMaxoutLayerSpec } from './spec.js';
