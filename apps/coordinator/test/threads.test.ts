import { afterEach, describe, expect, it, vi } from 'vitest';
import { availableParallelism } from 'node:os';
import { resolveThreadsPerUnit, setTensorFlowThreads, threadsPerWorker } from '../src/compute/runtime.js';
import { UsageError } from '../src/support/command-line.js';

afterEach(() => vi.unstubAllEnvs());

describe('threads per unit', () => {
  it('the flag wins over $TF_NUM_INTRAOP_THREADS, which wins over the fallback', () => {
    expect(resolveThreadsPerUnit(3, 1, { TF_NUM_INTRAOP_THREADS: '2' })).toBe(3);
    expect(resolveThreadsPerUnit(undefined, 1, { TF_NUM_INTRAOP_THREADS: '2' })).toBe(2);
    expect(resolveThreadsPerUnit(undefined, 5, {})).toBe(5);
    expect(resolveThreadsPerUnit(undefined, 5, { TF_NUM_INTRAOP_THREADS: '' })).toBe(5);
  });

  it.each(['0', 'two', '1.5', '-1'])('a malformed $TF_NUM_INTRAOP_THREADS (%s) is a usage error naming it', (value) => {
    expect(() => resolveThreadsPerUnit(undefined, 1, { TF_NUM_INTRAOP_THREADS: value })).toThrow(UsageError);
    expect(() => resolveThreadsPerUnit(undefined, 1, { TF_NUM_INTRAOP_THREADS: value })).toThrow(`TF_NUM_INTRAOP_THREADS must be a positive integer, got "${value}"`);
  });

  it('a pool shares the cores among its workers, at least one thread each', () => {
    expect(threadsPerWorker(1)).toBe(availableParallelism());
    expect(threadsPerWorker(availableParallelism() * 4)).toBe(1);
  });

  it('setTensorFlowThreads overrides what the environment had (the resolved value is the one recorded)', () => {
    vi.stubEnv('TF_NUM_INTRAOP_THREADS', '7');
    vi.stubEnv('OMP_NUM_THREADS', '7');
    setTensorFlowThreads(2);
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBe('2');
    expect(process.env.OMP_NUM_THREADS).toBe('2');
  });
});
