// Bundles the coordinator's entry points (CLI, Piscina worker, benchmarks, BullMQ worker) with esbuild.
// Dependencies stay external so native bindings (tfjs-node, msgpackr-extract) load from
// node_modules as usual; workspace libs (@advx/*) are bundled in via the tsconfig paths.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Entry points are the only files at src/'s top level (the layers live in its folders).
const entries = ['main', 'worker', 'bench', 'bullmq-worker'].filter((name) => existsSync(`${root}/apps/coordinator/src/${name}.ts`));

await build({
  absWorkingDir: root,
  entryPoints: {
    ...Object.fromEntries(entries.map((name) => [name, `apps/coordinator/src/${name}.ts`])),
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
