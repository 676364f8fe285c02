// Bundles the coordinator's entry points (CLI, Piscina worker, benchmarks) with esbuild.
// Dependencies stay external so native bindings (tfjs-node, msgpackr-extract) load from
// node_modules as usual; workspace libs (@advx/*) are bundled in via the tsconfig paths.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entries = ['main', 'worker', 'bench'].filter((name) => existsSync(`${root}/apps/coordinator/src/${name}.ts`));
// Entry points outside src/'s top level: output name → source.
const nested = { 'bullmq-worker': 'apps/coordinator/src/bullmq/worker-main.ts' };

await build({
  absWorkingDir: root,
  entryPoints: {
    ...Object.fromEntries(entries.map((name) => [name, `apps/coordinator/src/${name}.ts`])),
    ...Object.fromEntries(Object.entries(nested).filter(([, source]) => existsSync(`${root}/${source}`))),
  },
  outdir: 'dist/apps/coordinator',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  tsconfig: 'tsconfig.json',
  logLevel: 'warning',
});
