import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSweepArgs } from '../src/sweep/options.js';
import { UsageError } from '../src/support/command-line.js';
import { runCli } from './helpers.js';

afterEach(() => vi.unstubAllEnvs());

const fileOnDisk = join(mkdtempSync(join(tmpdir(), 'advx-cli-file-')), 'a-file');
writeFileSync(fileOnDisk, 'not a directory');

describe('sweep flags', () => {
  it('defaults to fgsm-baseline, preset cpu, seeds 1..5, out results/<experiment>', () => {
    const options = parseSweepArgs([]);
    expect(options).toMatchObject({ experiment: 'fgsm-baseline', preset: 'cpu', seeds: [1, 2, 3, 4, 5], backend: 'auto', out: 'results/fgsm-baseline' });
  });

  it('takes --executor inline with the default (or a single) worker', () => {
    expect(parseSweepArgs(['--executor', 'inline'])).toMatchObject({ executor: 'inline' });
    expect(parseSweepArgs(['--executor', 'inline', '--workers', '1'])).toMatchObject({ executor: 'inline' });
  });

  it('--threads-per-unit: cores ÷ workers for the pool, all cores inline, unless given (or set in $TF_NUM_INTRAOP_THREADS)', () => {
    vi.stubEnv('TF_NUM_INTRAOP_THREADS', '');
    const cores = availableParallelism();
    expect(parseSweepArgs(['--workers', '1'])).toMatchObject({ threadsPerUnit: cores });
    expect(parseSweepArgs(['--workers', String(2 * cores)])).toMatchObject({ threadsPerUnit: 1 });
    expect(parseSweepArgs(['--executor', 'inline'])).toMatchObject({ threadsPerUnit: cores });
    expect(parseSweepArgs(['--executor', 'inline', '--threads-per-unit', '1'])).toMatchObject({ threadsPerUnit: 1 });
    expect(parseSweepArgs(['--workers', '2', '--threads-per-unit', '3'])).toMatchObject({ threadsPerUnit: 3 });
    vi.stubEnv('TF_NUM_INTRAOP_THREADS', '3');
    expect(parseSweepArgs(['--executor', 'inline'])).toMatchObject({ threadsPerUnit: 3 });
    expect(parseSweepArgs(['--executor', 'inline', '--threads-per-unit', '1'])).toMatchObject({ threadsPerUnit: 1 });
    // BullMQ workers size their own pools.
    expect(parseSweepArgs(['--executor', 'bullmq', '--redis', 'redis://localhost:6379'])).toMatchObject({ threadsPerUnit: null });
  });

  it('takes --claims as a list, for the selected experiment', () => {
    expect(parseSweepArgs(['--experiment', 'adversarial-training', '--claims', 'P6, P8'])).toMatchObject({ claims: ['P6', 'P8'] });
    expect(parseSweepArgs([])).toMatchObject({ claims: null });
  });

  it('takes --seeds over --num-seeds', () => {
    expect(parseSweepArgs(['--seeds', '7,3', '--num-seeds', '2'])).toMatchObject({ seeds: [7, 3] });
    expect(parseSweepArgs(['--num-seeds', '2'])).toMatchObject({ seeds: [1, 2] });
  });

  it.each([
    [['--experiment', 'nope'], /--experiment: unknown experiment "nope"/],
    [['--preset', 'huge'], /--preset.*huge/],
    [['--seeds', '1,x'], /--seeds must be a comma-separated list of integers/],
    [['--seeds', '1,1'], /--seeds has duplicates/],
    [['--workers', '0'], /--workers must be a positive integer/],
    [['--backend', 'gpu'], /--backend.*gpu/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['--claims', 'P6'], /--claims: unknown claim P6 for --experiment fgsm-baseline \(known: P1, P2\)/],
    [['--experiment', 'all', '--claims', 'P6,X1,X2'], /--claims: unknown claims X1, X2 for --experiment all/],
    [['--executor', 'inline', '--workers', '3'], /--workers does not apply to --executor inline/],
    [['--threads-per-unit', '0'], /--threads-per-unit must be a positive integer, got "0"/],
    [['--executor', 'bullmq', '--redis', 'redis://localhost:6379', '--threads-per-unit', '1'], /--threads-per-unit does not apply to --executor bullmq/],
    [['--seeds', '1,4294967297'], /--seeds: 4294967297 is outside 0…1000000000/],
    [['--workers', '99999999999999999999'], /--workers must be at most 256/],
    [['--num-seeds', '1000000'], /--num-seeds must be at most 10000/],
    [['--out', ''], /--out: empty path/],
    [['--out', fileOnDisk], /--out: .* is a file, not a directory/],
    [['--out', join(fileOnDisk, 'below')], /--out: .*below lies under .*, which is a file, not a directory/],
    [['--reuse', join(tmpdir(), 'advx-no-such-sweep')], /--reuse: .*advx-no-such-sweep does not exist/],
  ])('rejects %j with a message naming the flag', (args, message) => {
    expect(() => parseSweepArgs(args)).toThrow(UsageError);
    expect(() => parseSweepArgs(args)).toThrow(message);
  });

  it('exits 2 with one line on stderr and writes nothing for a usage error', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'advx-cli-')), 'out');
    const run = await runCli(['--preset', 'huge', '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(/^advx sweep: .*--preset/);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 1 naming the directory when --data-dir lacks the dataset, with no report', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'advx-cli-'));
    const out = join(scratch, 'out');
    const run = await runCli(['--preset', 'smoke', '--data-dir', scratch, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(scratch);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
  });

  it('prints --help and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--experiment', '--preset', '--seeds', '--num-seeds', '--workers', '--threads-per-unit', '--backend', '--out', '--data-dir']) expect(run.stdout).toContain(flag);
  });
});
