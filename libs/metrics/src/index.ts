export { ClassificationAccumulator, type ClassificationStats } from './classification.js';
export { summarize, tCritical95, type Summary } from './summary.js';
