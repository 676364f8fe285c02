/**
 * Import rules the test command checks (`npx depcruise apps libs tools`): no circles anywhere, and
 * the libraries never reach into the app. Layering inside the coordinator is issue 15's to add.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
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
