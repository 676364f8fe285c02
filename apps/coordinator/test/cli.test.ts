import { describe, expect, it } from 'vitest';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSweepArgs } from '../src/cli.js';
import { UsageError } from '../src/command-line.js';
import { runCli } from './helpers.js';

describe('sweep flags', () => {
  it('defaults to fgsm-baseline, preset cpu, seeds 1..5, out results/<experiment>', () => {
    const options = parseSweepArgs([]);
    expect(options).toMatchObject({ experiment: 'fgsm-baseline', preset: 'cpu', seeds: [1, 2, 3, 4, 5], backend: 'auto', out: 'results/fgsm-baseline' });
  });

  it('takes --executor inline with the default (or a single) worker', () => {
    expect(parseSweepArgs(['--executor', 'inline'])).toMatchObject({ executor: 'inline' });
    expect(parseSweepArgs(['--executor', 'inline', '--workers', '1'])).toMatchObject({ executor: 'inline' });
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
    [['--executor', 'inline', '--workers', '3'], /--workers does not apply to --executor inline/],
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
    for (const flag of ['--experiment', '--preset', '--seeds', '--num-seeds', '--workers', '--backend', '--out', '--data-dir']) expect(run.stdout).toContain(flag);
  });
});
