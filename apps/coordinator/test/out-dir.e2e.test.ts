// The output directory fails safe: one sweep at a time (sweep.lock), an earlier report never stands
// beside results it does not describe, and staging files a killed writer left are cleared.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendArgs, mnistDir, nativeTensorFlowPass, runCli } from './helpers.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'advx-out-'));
// The quickest real sweep: softmax regression's P1, one seed.
const quick = (out: string, extra: string[] = []) => ['--preset', 'smoke', '--claims', 'P1', '--seeds', '1', '--workers', '1', '--out', out, '--data-dir', mnistDir!, ...backendArgs(), ...extra];
const lock = (out: string, pid: number, host = hostname()) => writeFileSync(join(out, 'sweep.lock'), JSON.stringify({ pid, host, started: '2026-01-01T00:00:00.000Z' }));
/** A pid no process has: above the kernel's pid_max. */
const GONE = 4_194_305;

// The output directory's safety is the coordinator's, whatever the backend: the tensorflow pass runs it.
describe.skipIf(!mnistDir || !nativeTensorFlowPass())('the output directory', () => {
  it('a live sweep\'s lock makes a second coordinator refuse with one line naming its pid, writing nothing', async () => {
    const out = scratch();
    lock(out, process.pid);
    const run = await runCli(quick(out));
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`advx sweep: --out: ${out} is in use by another sweep (pid ${process.pid}, started 2026-01-01T00:00:00.000Z); wait for it, or use another --out`);
    expect(existsSync(join(out, 'sweep.log'))).toBe(false);
    expect(existsSync(join(out, 'runs'))).toBe(false);
  });

  it('another host\'s lock needs --force; a dead pid\'s lock on this host is taken over (a crashed sweep resumes by rerunning)', async () => {
    const out = scratch();
    lock(out, 1234, 'another-host');
    const refused = await runCli(quick(out));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/locked by a sweep on host another-host \(pid 1234.*rerun with --force/);
    lock(out, GONE);
    const resumed = await runCli(quick(out));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(join(out, 'sweep.log'), 'utf8')).toContain(`took over the lock of pid ${GONE}`);
    expect(existsSync(join(out, 'sweep.lock'))).toBe(false);
    lock(out, 1234, 'another-host');
    const forced = await runCli(quick(out, ['--force']));
    expect(forced.code, forced.stderr).toBe(0);
  }, 300_000);

  it('--workers above the unit count starts one worker per unit, and says so', async () => {
    const out = scratch();
    const run = await runCli(quick(out).map((a, i, all) => (all[i - 1] === '--workers' ? '6' : a)));
    expect(run.code, run.stderr).toBe(0);
    const log = readFileSync(join(out, 'sweep.log'), 'utf8');
    // P1's units: softmax regression, its FGSM evaluations (unclipped and clipped), its masking probes.
    expect(log).toContain('--workers 6: this sweep has 4 unit(s), so it starts 4 worker(s)');
    expect(log).toMatch(/4 units on 4 workers/);
  }, 300_000);

  it('an --out that cannot be written (a read-only filesystem; a directory without write permission) is a one-line usage error, writing nothing', async (context) => {
    const parent = scratch();
    const isRoot = process.getuid?.() === 0;
    if (isRoot) {
      // Root may write anywhere permissions say no: a read-only mount is what stops it.
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=40k', 'tmpfs', parent], { stdio: 'ignore' });
      } catch {
        context.skip('no mount privilege here (a container without CAP_SYS_ADMIN), and root is not stopped by permissions');
        return;
      }
    } else execFileSync('chmod', ['555', parent]);
    try {
      const run = await runCli(quick(join(parent, 'results')));
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')[0]).toBe(`advx sweep: --out: ${parent} is not writable (a read-only filesystem, or no permission for this user); choose another --out`);
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      if (isRoot) execFileSync('umount', [parent]);
      else execFileSync('chmod', ['755', parent]);
    }
  });

  it('an earlier report becomes report.stale.* when a sweep starts; staging files are removed', async () => {
    const out = scratch();
    writeFileSync(join(out, 'report.json'), JSON.stringify({ complete: true, note: 'an earlier sweep' }));
    writeFileSync(join(out, 'report.md.tmp-1-abc'), 'half');
    mkdirSync(join(out, 'runs', 'train-x'), { recursive: true });
    writeFileSync(join(out, 'runs', 'train-x', 'result.json.tmp-2-def'), '');
    mkdirSync(join(out, 'runs', 'train-y.tmp-3-ghi'), { recursive: true });
    const run = await runCli(quick(out));
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'report.stale.json'), 'utf8'))).toMatchObject({ note: 'an earlier sweep' });
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toMatchObject({ complete: true, experiment: 'fgsm-baseline' });
    for (const left of ['report.md.tmp-1-abc', 'runs/train-x/result.json.tmp-2-def', 'runs/train-y.tmp-3-ghi']) expect(existsSync(join(out, left)), left).toBe(false);
    expect(readFileSync(join(out, 'sweep.log'), 'utf8')).toMatch(/removed 3 staging file/);
  }, 300_000);

  // A real full disk: a tmpfs of a few kilobytes (root can mount one; elsewhere the test is skipped).
  const small = mkdtempSync(join(tmpdir(), 'advx-full-'));
  const mountSmall = () => execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40k', 'tmpfs', small], { stdio: 'ignore' });
  const canMount = (() => {
    try {
      mountSmall();
      execFileSync('umount', [small]);
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!canMount)('a full disk: one line naming the directory and what did not fit, exit 1, no stack; with room again the rerun completes', async () => {
    const out = join(small, 'out');
    mountSmall();
    try {
      const full = await runCli(quick(out));
      expect(full.code).toBe(1);
      const lines = full.stderr.split('\n').filter((l) => l.startsWith('advx sweep:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^advx sweep: disk full in ${out}.*free, too little to write .*; free some space there or choose another --out, then rerun the command \\(finished units are kept\\)`));
      expect(full.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(out, 'sweep.lock'))).toBe(false);
      execFileSync('mount', ['-o', 'remount,size=400k', small]);
      const rerun = await runCli(quick(out));
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toMatchObject({ complete: true });
      const left = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.name.includes('.tmp-') ? [e.name] : e.isDirectory() ? left(join(dir, e.name)) : []));
      expect(left(out)).toEqual([]);
    } finally {
      execFileSync('umount', [small]);
    }
  }, 300_000);
});
