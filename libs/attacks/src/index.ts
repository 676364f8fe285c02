export type { AttackTarget, LinfOptions, LossFn, ScoresFn, TargetsFn } from './types.js';
export { fgsm } from './fgsm.js';
export { bim, pgd, type IterativeOptions, type PgdOptions } from './iterative.js';
export { attackLabels, lossGradient, linfStep, projectLinf, clipToRange, exactSign } from './gradient.js';
export { rubbishExamples, type RubbishOptions } from './rubbish.js';
export { foolingRun, type FoolingTarget, type FoolingOptions, type FoolingResult } from './fooling.js';
