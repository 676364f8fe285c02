import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../src/report/model.js';
import { haveRedis, readReport, REDIS_SERVER, scratch, start, startRedis, stop, freePort, workerScript, type Started } from './bullmq-helpers.js';
import { backendArgs, machineryPass, mnistDir, runCli } from './helpers.js';

/**
 * `--executor bullmq` against a real redis-server (the Debian package; .ci/run installs it): one
 * redis on a free loopback port, one `coordinator:worker` process (the built entry), and the
 * coordinator; the report must equal a Piscina sweep's for the same seeds, backend and threads per
 * unit (the determinism contract, README: the worker process and the pool each pin 1 TF thread).
 * Redis and worker faults: bullmq-faults.test.ts.
 */
if (!haveRedis) console.warn(`bullmq.test.ts: skipping the BullMQ executor tests: ${REDIS_SERVER} is absent (apt-get install redis-server)`);

describe('sweep CLI: --executor / --redis validation', () => {
  it('bullmq without --redis, a malformed --redis or a bad --redis-deadline is a usage error naming the flag', async () => {
    const missing = await runCli(['--executor', 'bullmq', '--preset', 'smoke']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--redis');
    const bad = await runCli(['--executor', 'bullmq', '--redis', 'http://localhost:6379', '--preset', 'smoke']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--redis: .*redis:\/\//);
    const unknown = await runCli(['--executor', 'celery', '--preset', 'smoke']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--executor');
    const deadlineAlone = await runCli(['--redis-deadline', '5', '--preset', 'smoke']);
    expect(deadlineAlone.code).toBe(2);
    expect(deadlineAlone.stderr).toContain('--redis-deadline only applies with --executor bullmq');
    const zero = await runCli(['--executor', 'bullmq', '--redis', 'redis://localhost:6379', '--redis-deadline', '0', '--preset', 'smoke']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--redis-deadline');
  });
});

// Where units run does not depend on the backend: one pass of the suite runs these (helpers.ts, machineryPass).
describe.skipIf(!haveRedis || !mnistDir || !machineryPass())('BullMQ executor against a real redis-server', () => {
  let redis: Started | undefined;
  let worker: Started | undefined;
  let redisUrl = '';
  let faultMarker = '';
  let piscinaClaims: Report['claims'] = [];

  beforeAll(async () => {
    if (!existsSync(workerScript)) throw new Error(`${workerScript} is missing: build first (node tools/build.mjs)`);
    const port = await freePort();
    redisUrl = `redis://127.0.0.1:${port}`;
    redis = await startRedis(port);
    // The worker's first maxout-fgsm unit kills its thread once: the job fails and the scheduler retries it.
    faultMarker = join(scratch(), 'fault-marker');
    worker = await start(
      process.execPath,
      [workerScript, '--redis', redisUrl, '--concurrency', '1', '--threads-per-unit', '1', '--data-dir', mnistDir!, '--runs-dir', scratch(), ...backendArgs()],
      /worker .* on redis:\/\//,
      { ADVX_FAULT: 'exit:maxout-fgsm', ADVX_FAULT_ONCE: faultMarker },
    );
  });

  afterAll(async () => {
    await stop(worker?.child);
    await stop(redis?.child);
  });

  /** The same sweep through BullMQ (on the worker process) and through a 1-worker Piscina pool at the worker's 1 thread per unit, both exiting 0. */
  async function bullAndPiscina(common: string[]) {
    const [viaBull, viaPiscina] = [scratch(), scratch()];
    const bull = await runCli([...common, '--out', viaBull, '--executor', 'bullmq', '--redis', redisUrl]);
    expect(bull.code, `${bull.stderr}\n--- worker:\n${worker!.output()}`).toBe(0);
    const piscina = await runCli([...common, '--out', viaPiscina, '--workers', '1', '--threads-per-unit', '1']);
    expect(piscina.code, piscina.stderr).toBe(0);
    return { bull, viaBull, b: readReport(viaBull), p: readReport(viaPiscina) };
  }

  it('runs a smoke sweep on a separate worker process; its report equals the Piscina one (same seeds, backend)', async () => {
    const common = ['--preset', 'smoke', '--seeds', '1', '--data-dir', mnistDir!, ...backendArgs()];
    const { bull, viaBull, b, p } = await bullAndPiscina(common);
    expect(b.complete).toBe(true);
    expect(b.backend).toBe(p.backend);
    expect(b.claims.length).toBeGreaterThan(0);
    // Bitwise, because the whole configuration is the same: backend, seed and threads, as recorded.
    expect(b.provenance).toEqual(p.provenance);
    expect(b.provenance.configurations.map((c) => c.threads)).toEqual([1]);
    expect(b.claims).toEqual(p.claims);
    piscinaClaims = p.claims;
    // The worker computed every unit; the coordinator's runs directory holds the models, as after a Piscina sweep.
    expect(worker!.output()).toMatch(/done in/);
    for (const run of b.runs) {
      expect(run.status).toBe('done');
      const result = JSON.parse(readFileSync(run.resultPath!, 'utf8'));
      if (result.config.kind === 'train') expect(existsSync(join(viaBull, 'runs', run.key, 'model', 'model.json'))).toBe(true);
    }
    // The injected fault: BullMQ reported the failed job, the scheduler's retry made the unit succeed.
    expect(existsSync(faultMarker)).toBe(true);
    expect(b.runs.filter((r) => r.attempts === 2)).toHaveLength(1);
    expect(bull.stderr).toMatch(/retrying maxout-fgsm/);
    expect(bull.stderr).toMatch(/BullMQ sweep .*unit job\(s\) completed, 1 failed attempt/);

    // A rerun recomputes nothing (the cache is the coordinator's runs directory, as with Piscina).
    const again = await runCli([...common, '--out', viaBull, '--executor', 'bullmq', '--redis', redisUrl]);
    expect(again.code, again.stderr).toBe(0);
    expect(readReport(viaBull).runs.every((r) => r.status === 'cached')).toBe(true);
  });

  it('ships crafted adversarial examples through Redis: a transfer matrix over BullMQ equals the Piscina one', async () => {
    const { viaBull, b, p } = await bullAndPiscina(['--experiment', 'rbf-transfer', '--preset', 'smoke', '--seeds', '1', '--data-dir', mnistDir!, ...backendArgs()]);
    expect(b.matrices.length).toBeGreaterThan(0);
    expect(b.matrices).toEqual(p.matrices);
    expect(b.claims).toEqual(p.claims);
    const crafts = b.runs.filter((r) => JSON.parse(readFileSync(r.resultPath!, 'utf8')).config.kind === 'craft');
    // One per row of the matrix and of its clipped twin.
    expect(crafts).toHaveLength(6);
    // The coordinator holds each craft unit's examples, as after a Piscina sweep.
    for (const run of crafts) expect(existsSync(join(viaBull, 'runs', run.key, 'adversarial', 'examples.msgpack')), run.role).toBe(true);
  });

  it('the worker exits cleanly on SIGTERM; a worker killed mid-job loses nothing (BullMQ re-queues the stalled job)', async () => {
    expect(await stop(worker!.child, 'SIGTERM')).toBe(0);
    const args = (runsDir: string) => [workerScript, '--redis', redisUrl, '--threads-per-unit', '1', '--data-dir', mnistDir!, '--runs-dir', runsDir, '--lock-duration', '4000', ...backendArgs()];
    const doomed = await start(process.execPath, args(scratch()), /worker .* on redis:\/\//);
    const out = scratch();
    const sweep = runCli(['--preset', 'smoke', '--seeds', '1', '--data-dir', mnistDir!, ...backendArgs(), '--out', out, '--executor', 'bullmq', '--redis', redisUrl]);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (!/started/.test(doomed.output())) return;
        clearInterval(check);
        doomed.child.kill('SIGKILL');
        resolve();
      }, 20);
    });
    worker = await start(process.execPath, args(scratch()), /worker .* on redis:\/\//);
    const run = await sweep;
    expect(run.code, `${run.stderr}\n--- worker:\n${worker.output()}`).toBe(0);
    const report = readReport(out);
    expect(report.complete).toBe(true);
    // Recovered by BullMQ, not retried by the scheduler: every unit took one attempt.
    expect(report.runs.every((r) => r.attempts === 1)).toBe(true);
    expect(report.claims).toEqual(piscinaClaims);
    expect(await stop(worker.child, 'SIGTERM')).toBe(0);
  });
});
