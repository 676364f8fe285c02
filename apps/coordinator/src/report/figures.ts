import type { Plan } from '../catalogue/plan.js';
import { FIGURE_INPUTS, type FigureId } from '../catalogue/figure-ids.js';
import { figureFiles, type Figure, type GridImage, type LearningCurve, type LearningCurvesFigure } from '../figures/index.js';
import type { UnitStatus } from '../schedule/status.js';
import type { ArtifactKind, ArtifactsByKind, TrainArtifacts } from '../units/artifacts.js';
import { isMpDbmTrain } from '../units/types.js';
import { curveReports, matrixReports } from './build.js';
import type { FigureLink } from './model.js';

/** The figures of a report, from its units' artifacts and its matrices and curves; drawn by figures/. */

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function tile(pixels: number[], shape: [number, number, number], label: string, scale: 'unit' | 'diverging' = 'unit'): GridImage {
  return { pixels, height: shape[0], width: shape[1], channels: shape[2] as 1 | 3, label, scale };
}

/** A figure's inputs (catalogue/figure-ids.ts), each the first seed's artifacts of its role, or null where there are none. */
type FigureArtifacts<Id extends FigureId> = { [Name in keyof (typeof FIGURE_INPUTS)[Id]]: (typeof FIGURE_INPUTS)[Id][Name] extends { kind: infer Kind extends ArtifactKind } ? ArtifactsByKind[Kind] | null : never };

/**
 * Figure builders, one for each FigureId (a missing or unknown one is a type error). Each is given
 * the artifacts of the roles its figure reads, as the catalogue names them.
 */
const FIGURES: { [Id in FigureId]: (artifacts: FigureArtifacts<Id>) => Figure[] } = {
  'fig1-fgsm': ({ examples: a }) => {
    if (!a) return [];
    const images = a.labels.slice(0, 4).flatMap((label, i) => [
      tile(a.clean[i], a.shape, `x: "${a.classNames[a.cleanPrediction[i]]}"\n${pct(a.cleanConfidence[i])}`),
      tile(a.gradientSign[i], a.shape, 'sign(∇ₓJ)', 'diverging'),
      tile(a.adversarial[i], a.shape, `x+${a.eps}·sign: "${a.classNames[a.adversarialPrediction[i]]}"\n${pct(a.adversarialConfidence[i])}`),
    ]);
    return [{ kind: 'image-grid', id: 'fig1-fgsm', title: 'Fig. 1 on MNIST: x, sign of the gradient, x + ε·sign (maxout)', caption: `Predictions and confidences of the naively trained maxout net before and after FGSM with ε = ${a.eps}.`, columns: 3, images }];
  },
  'fig2-logistic': ({ examples: a }) => {
    if (!a?.weights) return [];
    const w = a.weights.images[0];
    const images = [
      tile(w, a.shape, 'weights w', 'diverging'),
      tile(w.map(Math.sign), a.shape, 'sign(w)', 'diverging'),
      ...a.adversarial.map((x, i) => tile(x, a.shape, `adv: "${a.classNames[a.adversarialPrediction[i]]}" ${pct(a.adversarialConfidence[i])}`)),
    ];
    return [{ kind: 'image-grid', id: 'fig2-logistic', title: 'Fig. 2: logistic regression on 3 vs 7', caption: `Weights, their sign, and FGSM examples with ε = ${a.eps}.`, columns: 4, images }];
  },
  'fig3-weights': (artifacts) =>
    (
      [
        ['naive', 'naively trained'],
        ['adversarial', 'adversarially trained'],
      ] as const
    ).flatMap(([input, name]) => {
      const a = artifacts[input];
      if (!a?.weights) return [];
      const id = `fig3-weights-${input}`;
      const images = a.weights.images.map((w, i) => tile(w, a.shape, `unit ${Math.floor(i / a.weights!.pieces)}`, 'diverging'));
      return [{ kind: 'image-grid', id, title: `Fig. 3: first-layer weights, ${name} maxout`, caption: 'Each row shows the pieces of one maxout unit.', columns: a.weights.pieces, images }];
    }),
  'fig4-logits': ({ linearity: a }) => {
    if (!a) return [];
    const series = a.logits[0].map((_, c) => ({ name: `class ${c}${c === a.label ? ' (true)' : ''}`, points: a.epsilons.map((e, i): [number, number] => [e, a.logits[i][c]]) }));
    return [{ kind: 'line-chart', id: 'fig4-logits', title: 'Fig. 4: logits along x + ε·sign(∇ₓJ)', caption: `Maxout logits for one test digit (a ${a.label}) as ε varies; they are close to piecewise linear.`, xLabel: 'ε', yLabel: 'logit', series }];
  },
  'fig5-fooling': ({ fooling: a }) => {
    if (!a) return [];
    const images = a.examples.map((x, c) => tile(x, a.shape, `class ${c}: ${pct(a.successByClass[c])}`, 'diverging'));
    return [{ kind: 'image-grid', id: 'fig5-fooling', title: 'Fig. 5-style fooling images (MNIST, maxout)', caption: 'One fooling image grown from N(0, I) noise per target class, with the per-class success rate.', columns: 5, images }];
  },
  'rubbish-histogram': ({ rubbish: a }) => {
    if (!a) return [];
    const total = a.classHistogram.reduce((s, v) => s + v, 0) || 1;
    return [{ kind: 'bar-chart', id: 'rubbish-histogram', title: 'Classes given to rubbish inputs (maxout false positives)', caption: 'Fraction of N(0, I) inputs with a class probability > .5, by class (paper: 45.3% fives, no eights).', xLabel: 'class', yLabel: 'fraction of false positives', categories: a.classHistogram.map((_, c) => String(c)), values: a.classHistogram.map((v) => v / total) }];
  },
};

/** The artifacts a figure reads, each of its input role's first seed (null where that unit has none). */
function figureArtifacts<Id extends FigureId>(id: Id, plan: Plan, statuses: Map<string, UnitStatus>): FigureArtifacts<Id> {
  const firstSeed = plan.seeds[0];
  const inputs: Record<string, { role: string }> = FIGURE_INPUTS[id];
  const artifacts = (role: string) => {
    const key = plan.roles.get(role)?.get(firstSeed);
    return (key && statuses.get(key)?.result?.artifacts) || null;
  };
  return Object.fromEntries(Object.entries(inputs).map(([name, { role }]) => [name, artifacts(role)])) as FigureArtifacts<Id>;
}

function drawFigure<Id extends FigureId>(id: Id, plan: Plan, statuses: Map<string, UnitStatus>): Figure[] {
  return FIGURES[id](figureArtifacts(id, plan, statuses));
}

/**
 * Learning curves of an experiment's training units (their result.json history), every seed: one
 * figure per experiment, a row of panels per model role. Ensemble members (roles "name#i") share
 * their model's row, since they are the same recipe; a line per member and seed. Rows keep the
 * figure readable however many roles an experiment trains (one figure per role would scatter an
 * experiment's curves among its other figures); each row has its own axes. Runs of fewer than 2
 * epochs draw nothing, and so does an experiment without any longer one.
 */
export function learningCurvesFigure(plan: Plan, statuses: Map<string, UnitStatus>): LearningCurvesFigure | null {
  const panels: string[] = [];
  const curves: LearningCurve[] = [];
  let adversarial = false;
  const monitors = new Set<string>();
  for (const unit of plan.units) {
    if (unit.config.kind !== 'train') continue;
    const history = (statuses.get(unit.key)?.result?.artifacts as Partial<TrainArtifacts> | undefined)?.history;
    if (!Array.isArray(history) || history.length < 2) continue;
    const role = unit.member?.role ?? unit.role;
    const member = unit.member ? String(unit.member.index) : undefined;
    const eps = unit.config.earlyStopping?.adversarialEps;
    // Stage 1's validation error is the one early stopping selects on: under FGSM in §6.
    const panel = eps ? `${role} (stage-1 validation error under FGSM ε = ${eps})` : role;
    adversarial ||= !!eps;
    const monitor = isMpDbmTrain(unit.config) ? undefined : unit.config.training.monitor;
    if (monitor) monitors.add(`ε = ${monitor.eps}, ${monitor.steps} steps of ${monitor.stepSize}${monitor.clip ? ', clipped to [0, 1]' : ''}, on the first ${monitor.examples} training examples`);
    if (!panels.includes(panel)) panels.push(panel);
    curves.push({
      panel,
      seed: unit.seed,
      run: member ?? '',
      // `monitor` is absent from histories written before the monitor existed.
      epochs: history.map((r, i) => ({ step: i + 1, stage: r.stage, trainLoss: r.trainLoss, validationError: r.validationError, pgdAccuracy: r.monitor?.pgdAccuracy ?? null })),
    });
  }
  if (curves.length === 0) return null;
  // A row of ensemble members says how many there are.
  const runs = new Map(panels.map((p) => [p, new Set(curves.filter((c) => c.panel === p).map((c) => c.run))]));
  const label = (p: string) => (runs.get(p)!.size > 1 ? `${p}: ${runs.get(p)!.size} members` : p);
  for (const c of curves) c.panel = label(c.panel);
  const members = curves.some((c) => c.run !== '');
  const stage2 = curves.some((c) => c.epochs.some((e) => e.stage === 2));
  const caption = [
    `Training loss and validation error after each epoch, one line per seed${members ? ' (and per ensemble member)' : ''}.`,
    stage2 ? 'Dashed: stage 2, which trains on training and validation examples together, so its validation error is on examples it trains on.' : '',
    adversarial ? 'Where early stopping selects on adversarial validation error (§6), stage 1 shows that error.' : '',
    curves.some((c) => c.epochs.some((e) => e.pgdAccuracy !== null))
      ? `PGD accuracy: the catastrophic-overfitting monitor of FGSM training (Wong, Rice & Kolter 2020), PGD on the dropout-free net (${[...monitors].join('; ')}) after each epoch; a collapse towards 0 while training continues is catastrophic overfitting.`
      : '',
    'Per epoch in TensorBoard: runs/<key>/tensorboard (native backend only).',
  ].filter(Boolean).join(' ');
  return { kind: 'learning-curves', id: `learning-curves-${plan.experiment.id}`, title: `Learning curves: ${plan.experiment.title}`, caption, panels: panels.map(label), curves };
}

/** A figure and the experiment it belongs to. */
export interface ExperimentFigure {
  figure: Figure;
  experiment: string;
}

/** Every figure of a sweep's report, in the order the report lists them. */
export function reportFigures(plans: Plan[], statuses: Map<string, UnitStatus>): ExperimentFigure[] {
  const out: ExperimentFigure[] = [];
  for (const plan of plans) {
    for (const id of plan.experiment.figures ?? []) for (const figure of drawFigure(id, plan, statuses)) out.push({ figure, experiment: plan.experiment.id });
    const curves = learningCurvesFigure(plan, statuses);
    if (curves) out.push({ figure: curves, experiment: plan.experiment.id });
  }
  for (const m of plans.flatMap((plan) => matrixReports(plan, statuses))) {
    out.push({
      experiment: m.experiment,
      figure: { kind: 'heatmap', id: m.id, title: m.title, caption: 'Rows: model the adversarial examples were crafted on; columns: model judged on them. Mean over seeds.', rowLabel: 'source', columnLabel: 'target', rows: m.models, columns: m.models, values: m.values, format: 'percent' },
    });
  }
  for (const c of plans.flatMap((plan) => curveReports(plan, statuses))) {
    out.push({
      experiment: c.experiment,
      figure: { kind: 'line-chart', id: c.id, title: c.title, caption: 'Error rate on adversarial test examples against the L∞ budget ε, mean over seeds; one panel per model.', xLabel: 'ε', yLabel: 'error rate', yDomain: [0, 1], series: c.series.map((s) => ({ name: s.attack, panel: s.model, points: s.points })) },
    });
  }
  return out;
}

/** Where the report's figures are drawn: `figures/` beside it. */
export const FIGURES_DIRECTORY = 'figures';

/** The report's links to its figures' files (figures/render.ts names them), relative to the report. */
export function figureLinks(figures: ExperimentFigure[]): FigureLink[] {
  return figures.map(({ figure }) => ({ id: figure.id, title: figure.title, ...figureFiles(FIGURES_DIRECTORY, figure.id) }));
}
