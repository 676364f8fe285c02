import { describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';

const draws = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.uniform());

describe('Rng', () => {
  it('repeats its numbers for the same seed and not for another', () => {
    expect(draws(Rng.fromSeed(42), 20)).toEqual(draws(Rng.fromSeed(42), 20));
    expect(draws(Rng.fromSeed(42), 20)).not.toEqual(draws(Rng.fromSeed(43), 20));
  });

  it('rejects a seed that is not an integer', () => {
    expect(() => Rng.fromSeed(1.5)).toThrow('seed must be an integer, got 1.5');
  });

  it('forks streams by label without advancing the parent', () => {
    const parent = Rng.fromSeed(1);
    const a = draws(parent.fork('init'), 10);
    expect(draws(parent, 10)).toEqual(draws(Rng.fromSeed(1), 10));
    expect(draws(Rng.fromSeed(1).fork('init'), 10)).toEqual(a);
    expect(draws(Rng.fromSeed(1).fork('shuffle'), 10)).not.toEqual(a);
  });

  it('draws uniforms in [0, 1), integers in [0, n) and normals of mean 0, std 1', () => {
    const rng = Rng.fromSeed(3);
    const u = draws(rng, 10_000);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const ints = Array.from({ length: 1000 }, () => rng.int(6));
    expect(new Set(ints)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    const normals = rng.fillNormal(new Float32Array(20_000));
    const mean = normals.reduce((s, x) => s + x, 0) / normals.length;
    const variance = normals.reduce((s, x) => s + (x - mean) ** 2, 0) / normals.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('fills uniform ranges and inverted-dropout masks', () => {
    const rng = Rng.fromSeed(5);
    const u = rng.fillUniform(new Float32Array(1000), -2, 3);
    // Closed above: storing low + width·u in float32 can round up to `high` itself.
    expect(u.every((x) => x >= -2 && x <= 3)).toBe(true);
    const mask = rng.fillDropoutMask(new Float32Array(10_000), 0.8);
    expect(mask.every((x) => x === 0 || x === Math.fround(1.25))).toBe(true);
    const kept = mask.filter((x) => x !== 0).length / mask.length;
    expect(Math.abs(kept - 0.8)).toBeLessThan(0.02);
  });

  it('draws the same numbers in bulk as one at a time, across chunks, and goes on from where they stopped', () => {
    for (const n of [1, 4095, 4096, 4097, 10_001]) {
      const bulk = Rng.fromSeed(11);
      const single = Rng.fromSeed(11);
      const u = bulk.fillUniform(new Float32Array(n), -0.5, 2);
      expect([...u]).toEqual(draws(single, n).map((x) => Math.fround(-0.5 + 2.5 * x)));
      const mask = bulk.fillDropoutMask(new Float32Array(n), 0.8, 1);
      expect([...mask]).toEqual(draws(single, n).map((x) => (x < 0.8 ? 1 : 0)));
      expect(draws(bulk, 5)).toEqual(draws(single, 5));
      expect(bulk.state()).toEqual(single.state());
    }
  });

  it('makes permutations of 0..n-1', () => {
    const p = Rng.fromSeed(9).permutation(50);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...p]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
