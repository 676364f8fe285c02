import type { ArtifactKind } from '../units/artifacts.js';

/**
 * The paper's figures an experiment can list, and which of its analysis roles each draws from (the
 * first seed's artifacts). The one place that joins a figure to roles: the planner checks that an
 * experiment listing a figure has those roles, of those kinds, and the report's builder for each
 * id (report/figures.ts, keyed by FigureId) reads them from here. An unknown id is a type error in
 * the experiment's file, and a missing role an error when it is planned.
 */
export const FIGURE_INPUTS = {
  'fig1-fgsm': { examples: { role: 'maxout-weights', kind: 'examples' } },
  'fig2-logistic': { examples: { role: 'logistic-figure', kind: 'examples' } },
  'fig3-weights': { naive: { role: 'maxout-weights', kind: 'examples' }, adversarial: { role: 'adv-weights', kind: 'examples' } },
  'fig4-logits': { linearity: { role: 'maxout-linearity', kind: 'linearity' } },
  'fig5-fooling': { fooling: { role: 'maxout-fooling', kind: 'fooling' } },
  'rubbish-histogram': { rubbish: { role: 'rubbish-maxout', kind: 'rubbish' } },
} as const satisfies Record<string, Record<string, FigureInput>>;

/** One analysis role a figure reads, and the unit kind whose artifacts it expects there. */
export interface FigureInput {
  role: string;
  kind: ArtifactKind;
}

export type FigureId = keyof typeof FIGURE_INPUTS;

export const isFigureId = (id: string): id is FigureId => Object.hasOwn(FIGURE_INPUTS, id);
