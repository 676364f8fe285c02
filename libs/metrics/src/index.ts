export { ClassificationAccumulator, type ClassificationStats } from './classification.js';
export { summarize, tCritical95, type Summary } from './summary.js';
export { rubbishStats, type RubbishStats } from './rubbish.js';
export { logitsAlongDirection, piecewiseLinearFit, type PiecewiseFit, type PiecewiseFitOptions } from './linearity.js';
export { AgreementAccumulator, type AgreementStats } from './agreement.js';
export { maskingChecks, noiseBand, MASKING_CHECK_IDS, DEFAULT_MASKING_THRESHOLDS, type MaskingCheckId, type CheckStatus, type CheckOutcome, type MaskingMeasurements, type MaskingThresholds } from './masking-checks.js';
export { catastrophicOverfitting, type OverfittingCheck, type OverfittingOptions, type PgdAccuracyPoint } from './overfitting.js';
export { firstOrderExamples, summarizeFirstOrder, firstOrderMetric, type FirstOrderExamples, type FirstOrderSummary } from './first-order.js';
