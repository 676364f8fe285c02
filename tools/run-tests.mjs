// The project's test command (`npm test`): typecheck, build, import rules, then the vitest suite once per
// backend — native TensorFlow and wasm — since results must hold on both. Ends with one line
// "N passed, N failed" summing every pass, so a run that tested nothing is visible.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const requireNative = process.env.ADVX_REQUIRE_NATIVE === '1';
const tensorProjects = ['models', 'attacks', 'metrics', 'coordinator'];
const extraArgs = process.argv.slice(2);

function run(command, args, env = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

function nativeLoads() {
  const probe = spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, encoding: 'utf8' });
  return { ok: probe.status === 0, reason: (probe.stderr || '').trim().split('\n').find((l) => l.includes('Error')) ?? `exit ${probe.status}` };
}

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];

for (const [label, command, args] of [
  ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['build', process.execPath, ['tools/build.mjs']],
  // Import rules (.dependency-cruiser.cjs): no circles, libs below apps, the coordinator's layers.
  ['imports', 'npx', ['depcruise', 'apps', 'libs', 'tools', '--output-type', 'err']],
]) {
  console.log(`\n== ${label}`);
  if (run(command, args) !== 0) {
    failed++;
    problems.push(label);
  } else passed++;
}

const passes = [];
const native = nativeLoads();
if (native.ok) passes.push({ backend: 'tensorflow', projects: null });
else if (requireNative) {
  failed++;
  problems.push(`native TensorFlow backend required (ADVX_REQUIRE_NATIVE=1) but @tensorflow/tfjs-node does not load: ${native.reason}`);
} else console.log(`\n== skipping the tensorflow pass: @tensorflow/tfjs-node does not load (${native.reason})`);
// The data lib never touches a backend, so the second pass runs only the tensor projects.
passes.push({ backend: 'wasm', projects: native.ok ? tensorProjects : null });

const scratch = mkdtempSync(join(tmpdir(), 'advx-tests-'));
for (const { backend, projects } of passes) {
  console.log(`\n== vitest on backend ${backend}`);
  const outputFile = join(scratch, `${backend}.json`);
  const projectArgs = (projects ?? []).flatMap((p) => ['--project', p]);
  run('npx', ['vitest', 'run', ...projectArgs, '--reporter=default', '--reporter=json', `--outputFile.json=${outputFile}`, ...extraArgs], { ADVX_TEST_BACKEND: backend });
  try {
    const report = JSON.parse(readFileSync(outputFile, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    if (report.numFailedTests > 0 || report.numFailedTestSuites > 0) problems.push(`vitest on ${backend}`);
    failed += report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? report.numFailedTestSuites : 0;
  } catch {
    failed++;
    problems.push(`vitest on ${backend} wrote no report`);
  }
}
rmSync(scratch, { recursive: true, force: true });

if (problems.length) console.log(`\nfailed: ${problems.join('; ')}`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
