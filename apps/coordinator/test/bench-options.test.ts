import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../src/bench/options.js';
import { UsageError } from '../src/support/command-line.js';

describe('bench options', () => {
  it('times the protocol batch and P7’s 1,600-unit net by default, and takes other UNITSxBATCH lists or none', () => {
    const defaults = parseBenchArgs([]);
    expect(defaults !== 'help' && defaults.workloads).toEqual([
      { units: 240, batch: 100 },
      { units: 1600, batch: 100 },
    ]);
    const custom = parseBenchArgs(['--workloads', '800x50, 240x128']);
    expect(custom !== 'help' && custom.workloads).toEqual([
      { units: 800, batch: 50 },
      { units: 240, batch: 128 },
    ]);
    const none = parseBenchArgs(['--workloads', 'none']);
    expect(none !== 'help' && none.workloads).toEqual([]);
  });

  it('rejects a workload that is not UNITSxBATCH with a message naming the flag', () => {
    expect(() => parseBenchArgs(['--workloads', '1600'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--workloads', '0x100'])).toThrow(/--workloads: '0x100' is not UNITSxBATCH/);
  });
});
