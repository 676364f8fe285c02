import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../src/report/model.js';
import { backendArgs, mnistDir, nativeTensorFlowPass, root, runCli, type CliRun } from './helpers.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'advx-crash-'));
const readReport = (out: string) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
const finishedUnits = (out: string) => (existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')).filter((k) => existsSync(join(out, 'runs', k, 'result.json'))) : []);
const args = (out: string, extra: string[] = []) => ['--preset', 'smoke', '--seeds', '1,2', '--workers', '1', '--out', out, '--data-dir', mnistDir!, ...backendArgs(), ...extra];

/** Starts the CLI and sends `signal` once `ready()` holds; resolves with the run. */
function interruptWhen(out: string, signal: NodeJS.Signals, ready: () => boolean, extra: string[] = [], env: Record<string, string> = {}) {
  let timer: NodeJS.Timeout | undefined;
  return runCli(args(out, extra), env, (child) => {
    timer = setInterval(() => {
      if (ready()) {
        clearInterval(timer);
        child.kill(signal);
      }
    }, 50);
  }).finally(() => clearInterval(timer));
}

// Signals, retries and resuming are the coordinator's, whatever the backend, so they run in the
// tensorflow pass only: on wasm (≈ 15× slower) the smoke protocol's training makes each of these
// sweeps minutes long. Resuming bit for bit is also tested on every backend, in the library
// (libs/models/test/protocol.test.ts).
describe.skipIf(!mnistDir || !nativeTensorFlowPass())('crashes and interruptions (real signals)', () => {
  it('SIGKILL of the coordinator mid-sweep: the rerun recomputes only unfinished units and reports what an uninterrupted sweep does', async () => {
    const reference = scratch();
    expect((await runCli(args(reference))).code).toBe(0);

    const out = scratch();
    const killed = await interruptWhen(out, 'SIGKILL', () => finishedUnits(out).length >= 3);
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(out, 'report.json'))).toBe(false);
    const survived = finishedUnits(out);
    expect(survived.length).toBeGreaterThanOrEqual(3);

    const rerun = await runCli(args(out));
    expect(rerun.code, rerun.stderr).toBe(0);
    const report = readReport(out);
    const cached = report.runs.filter((r) => r.status === 'cached').map((r) => r.key);
    expect(cached.sort()).toEqual(survived.sort());
    expect(report.runs.filter((r) => r.status === 'done')).toHaveLength(report.runs.length - survived.length);
    expect(report.claims).toEqual(readReport(reference).claims);
  });

  it('SIGKILL mid-epoch of a training run: the rerun resumes it from its checkpoint and ends with the uninterrupted run\'s numbers, bit for bit', async () => {
    const oneSeed = ['--seeds', '1'];
    const reference = scratch();
    expect((await runCli(args(reference, oneSeed))).code).toBe(0);

    // A checkpoint after every epoch; the kill lands within 50 ms of the first one, i.e. inside epoch 2.
    const everyEpoch = { ADVX_CHECKPOINT_SECONDS: '0' };
    const out = scratch();
    const checkpoints = () => (existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')).filter((k) => existsSync(join(out, 'runs', k, 'checkpoint.msgpack'))) : []);
    const killed = await interruptWhen(out, 'SIGKILL', () => checkpoints().length > 0, oneSeed, everyEpoch);
    expect(killed.signal).toBe('SIGKILL');
    const [interrupted] = checkpoints();
    expect(existsSync(join(out, 'runs', interrupted, 'result.json'))).toBe(false);

    const rerun = await runCli(args(out, oneSeed), everyEpoch);
    expect(rerun.code, rerun.stderr).toBe(0);
    const result = (dir: string) => JSON.parse(readFileSync(join(dir, 'runs', interrupted, 'result.json'), 'utf8'));
    const [resumed, uninterrupted] = [result(out), result(reference)];
    expect(resumed.metrics.resumed_from_epoch).toBeGreaterThanOrEqual(1);
    expect(uninterrupted.metrics.resumed_from_epoch).toBeNull();
    const withoutTimings = (r: { artifacts: { history: { examplesPerSecond?: number }[] } }) => r.artifacts.history.map(({ examplesPerSecond: _, ...rest }) => rest);
    expect(withoutTimings(resumed)).toEqual(withoutTimings(uninterrupted));
    // Everything but the speed and the resume marker.
    const numbersOf = ({ examples_per_second: _speed, resumed_from_epoch: _resumed, ...rest }: Record<string, number | null>) => rest;
    expect(numbersOf(resumed.metrics)).toEqual(numbersOf(uninterrupted.metrics));
    expect(readFileSync(join(out, 'runs', interrupted, 'model', 'weights.bin'))).toEqual(readFileSync(join(reference, 'runs', interrupted, 'model', 'weights.bin')));
    expect(existsSync(join(out, 'runs', interrupted, 'checkpoint.msgpack'))).toBe(false);
    expect(readReport(out).claims).toEqual(readReport(reference).claims);
  }, 300_000);

  it('SIGINT: stops scheduling, keeps finished units, writes a report marked incomplete, exits 130', async () => {
    const out = scratch();
    const run = await interruptWhen(out, 'SIGINT', () => finishedUnits(out).length >= 1);
    expect(run.code).toBe(130);
    const report = readReport(out);
    expect(report.complete).toBe(false);
    expect(report.runs.some((r) => r.status === 'cancelled')).toBe(true);
    for (const run of report.runs.filter((r) => r.status === 'done')) expect(existsSync(run.resultPath!)).toBe(true);
  });

  it('SIGTERM (what Ctrl-C on `npx nx run` delivers) behaves as the first SIGINT and exits 143', async () => {
    const out = scratch();
    const run = await interruptWhen(out, 'SIGTERM', () => finishedUnits(out).length >= 1);
    expect(run.code).toBe(143);
    expect(run.stderr).toContain('interrupted (SIGTERM)');
    const report = readReport(out);
    expect(report.complete).toBe(false);
    expect(report.runs.some((r) => r.status === 'cancelled')).toBe(true);
    // The lock goes with the sweep, so the next command resumes without --force.
    expect(existsSync(join(out, 'sweep.lock'))).toBe(false);
  });

  it('Ctrl-C on the README\'s `npx nx run coordinator:sweep` (SIGINT to its process group) ends with an incomplete report, like the first SIGINT', async () => {
    const out = scratch();
    // A terminal's Ctrl-C signals the foreground process group: npx, nx and what nx runs in that group.
    // nx starts the sweep in a session of its own and passes the interrupt on as SIGTERM.
    const run = await new Promise<CliRun>((resolve) => {
      const child = spawn('npx', ['nx', 'run', 'coordinator:sweep', '--', ...args(out)], {
        cwd: root,
        detached: true,
        env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', NX_DAEMON: 'false', NX_TUI: 'false', NX_SKIP_NX_CACHE: 'true', NX_NO_CLOUD: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let [stdout, stderr] = ['', ''];
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setInterval(() => {
        if (finishedUnits(out).length >= 1) {
          clearInterval(timer);
          process.kill(-child.pid!, 'SIGINT');
        }
      }, 50);
      child.on('close', (code, signal) => {
        clearInterval(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
    const output = run.stdout + run.stderr;
    expect(run.code ?? run.signal, output.slice(-2000)).not.toBe(0);
    // nx exits at once; the sweep goes on to stop cleanly (its lock goes last), and sweep.log says why.
    const deadline = Date.now() + 60_000;
    while (existsSync(join(out, 'sweep.lock')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(join(out, 'sweep.log'), 'utf8')).toMatch(/interrupted \(SIG(INT|TERM)\)/);
    const report = readReport(out);
    expect(report.complete).toBe(false);
    expect(report.runs.some((r) => r.status === 'cancelled')).toBe(true);
    for (const done of report.runs.filter((r) => r.status === 'done')) expect(existsSync(done.resultPath!)).toBe(true);
    // The sweep itself has exited (its lock is released), not left running behind nx.
    expect(existsSync(join(out, 'sweep.lock'))).toBe(false);
    expect(report.runs.every((r) => r.status !== 'running')).toBe(true);
  }, 300_000);

  it('a hung unit is killed at --unit-timeout and retried', async () => {
    const out = scratch();
    const run = await runCli(args(out, ['--seeds', '1', '--unit-timeout', '20']), { ADVX_FAULT: 'hang:softmax-fgsm', ADVX_FAULT_ONCE: join(out, 'hung') });
    expect(run.code, run.stderr).toBe(0);
    const report = readReport(out);
    expect(report.runs.find((r) => r.role === 'softmax-fgsm')!.attempts).toBe(2);
    expect(run.stderr).toMatch(/retrying softmax-fgsm .*abort/i);
  });
});
