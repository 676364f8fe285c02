import { describe, expect, it } from 'vitest';
import { provenanceLine, provenanceOf } from '../src/report/provenance.js';
import type { UnitStatus } from '../src/schedule/status.js';
import type { RunInfo, UnitResult } from '../src/units/types.js';

/** A finished unit computed on `backend` with `threads` kernel threads on `cpu` (undefined: not recorded). */
function status(key: string, backend: string, threads?: number, cpu?: string): UnitStatus {
  const run = { worker: 'h:1:0', startedAt: 0, finishedAt: 1, tensorsAfter: 0, heapUsedMB: 1, rssMB: 1, ...(threads === undefined ? {} : { threads, cpu }) } as RunInfo;
  const result = { key, role: 'r', seed: 1, metrics: {}, backend, computeSeconds: 1, run } as unknown as UnitResult;
  return { unit: { key, role: 'r', seed: 1, config: {} as UnitStatus['unit']['config'], dependsOn: [] }, state: 'done', result, resultPath: null, attempts: 1, error: null };
}

describe('report provenance', () => {
  it('one setting: uniform, one line naming backend, threads per unit and CPU', () => {
    const p = provenanceOf([status('a', 'tensorflow', 1, 'Xeon'), status('b', 'tensorflow', 1, 'Xeon')]);
    expect(p).toEqual({ configurations: [{ backend: 'tensorflow', threads: 1, cpu: 'Xeon', units: 2 }], uniform: true });
    expect(provenanceLine(p)).toBe('Provenance: tensorflow, 1 thread per unit, Xeon (2 units).');
  });

  it('a cache hit computed with other threads, or before threads were recorded, makes it mixed and says so', () => {
    const unfinished = { ...status('d', 'tensorflow'), state: 'failed' as const, result: null };
    const p = provenanceOf([status('a', 'tensorflow', 1, 'Xeon'), status('b', 'tensorflow', 1, 'Xeon'), status('c', 'tensorflow', 2, 'EPYC'), status('e', 'wasm'), unfinished]);
    expect(p.uniform).toBe(false);
    expect(p.configurations).toEqual([
      { backend: 'tensorflow', threads: 1, cpu: 'Xeon', units: 2 },
      { backend: 'tensorflow', threads: 2, cpu: 'EPYC', units: 1 },
      { backend: 'wasm', threads: null, cpu: null, units: 1 },
    ]);
    const line = provenanceLine(p);
    expect(line).toContain('tensorflow, 2 threads per unit, EPYC (1 unit)');
    expect(line).toContain('wasm, threads not recorded, CPU not recorded (1 unit)');
    expect(line).toMatch(/only within the tolerance of the determinism contract/);
    expect(provenanceOf([status('x', 'wasm')]).uniform).toBe(false);
  });
});
