/**
 * Import rules the test command checks (`npx depcruise apps libs tools`): no circles anywhere, the
 * libraries never reach into the app, and the coordinator's layers import only the layers below them.
 */

/**
 * The coordinator's layers, top first (apps/coordinator/src/<layer>/). Above them all, the entry
 * points (src/*.ts: main, worker, bench, bullmq-worker), which nothing imports. Layers on one line
 * share a level and may not import each other either.
 */
const COORDINATOR_LAYERS = [
  ['sweep', 'bench'], // a sweep's wiring (options, data, runSweep); the benchmarks
  ['report'], // the report: model, verdicts, build, markdown, figures and the HTML page's view of it
  ['execution'], // where units run: Piscina threads, this thread, BullMQ workers
  ['schedule'], // the scheduler, unit states, the Executor interface it owns, progress, farm profile
  ['compute'], // what a unit computes: the handlers, the runtime (backend, TF threads), shared data
  ['catalogue'], // the experiments as data, the planner, figure ids
  ['units'], // unit types, artifacts, keys, the runs/<key>/ layout, the store, the codec
  ['figures'], // the render kit (SVG, PNG, the HTML page), knowing nothing of the report
  ['support'], // command line, log, atomic writes
];
const SRC = '^apps/coordinator/src/';
const layerRules = COORDINATOR_LAYERS.flatMap((level, i) => {
  const above = COORDINATOR_LAYERS.slice(0, i).flat();
  return level.map((layer) => ({
    name: `layer-${layer}`,
    severity: 'error',
    comment: `${layer}/ imports only the layers below it (${COORDINATOR_LAYERS.slice(i + 1).flat().join(', ') || 'none'}), never an entry point.`,
    from: { path: `${SRC}${layer}/` },
    to: { path: [`${SRC}[^/]+\\.ts$`, ...[...above, ...level.filter((other) => other !== layer)].map((other) => `${SRC}${other}/`)] },
  }));
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'coordinator-in-layers',
      severity: 'error',
      comment: 'Every coordinator source file is an entry point (src/*.ts) or lives in a layer folder.',
      from: { path: `${SRC}(?!(?:${COORDINATOR_LAYERS.flat().join('|')})/)[^/]+/` },
      to: {},
    },
    { name: 'no-circular', severity: 'error', comment: 'An import circle: one side should own the shared shape.', from: {}, to: { circular: true } },
    { name: 'libs-below-apps', severity: 'error', comment: 'Libraries hold the logic and import no app.', from: { path: '^libs/' }, to: { path: '^apps/' } },
    { name: 'no-unresolvable', severity: 'error', comment: 'An import that resolves to nothing.', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // Packages that publish only an "exports" map (vega-lite, pure-rand's subpaths) resolve as Node resolves them.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], mainFields: ['module', 'main'] },
    exclude: { path: '(^|/)(dist|node_modules)/' },
  },
};
