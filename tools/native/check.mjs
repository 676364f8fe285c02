#!/usr/bin/env node
// Prints which backend the project's own loader picks: bundles libs/models/src/backend.ts with esbuild
// (packages stay external, so they resolve from this checkout's node_modules) and calls selectBackend.
//   node tools/native/check.mjs [auto|tensorflow|wasm|cpu]
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const requested = process.argv[2] ?? 'auto';
const out = path.join(here, `.check-${process.pid}.mjs`);
const entry = `
import { selectBackend } from ${JSON.stringify(path.join(root, 'libs/models/src/backend.ts'))};
import * as tf from '@tensorflow/tfjs-core';
const info = await selectBackend(${JSON.stringify(requested)});
const y = tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync()[0];
console.log(JSON.stringify({ requested: ${JSON.stringify(requested)}, ...info, engineBackend: tf.getBackend(), matMulOk: y === 2 }));
`;
try {
  await build({ stdin: { contents: entry, resolveDir: root, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'error' });
  await import(pathToFileURL(out).href);
} finally {
  fs.rmSync(out, { force: true });
}
