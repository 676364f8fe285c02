import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EXPERIMENTS } from '../catalogue/experiments/index.js';
import { planExperiment } from '../catalogue/plan.js';
import { restrictToClaims } from '../catalogue/restrict-claims.js';
import type { Report } from '../report/model.js';
import { SCHEDULING_ORDERS } from '../schedule/order.js';
import { makespanLowerBound, simulateSchedule, type SimulatedSchedule } from '../schedule/simulate.js';
import type { Unit, UnitResult } from '../units/types.js';

/**
 * A finished sweep replayed under each scheduling order (schedule/order.ts) with its units' measured
 * compute seconds: what the order alone costs on that workload, free of hand-off costs and of
 * whatever else the machine was doing. Units are re-planned from report.json's experiment, preset,
 * seeds and claims, with the dataset checksums its results recorded, so their keys and
 * dependencies are the sweep's own.
 */
export interface Replay {
  out: string;
  experiment: string;
  preset: string;
  seeds: number[];
  workers: number;
  units: number;
  computeSeconds: number;
  lowerBound: number;
  orders: SimulatedSchedule[];
}

export async function replaySweep(out: string, workers: number): Promise<Replay> {
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report;
  const seconds = new Map<string, number>();
  const checksums = new Map<string, string>();
  const runsDir = join(out, 'runs');
  for (const entry of await readdir(runsDir)) {
    const result = JSON.parse(await readFile(join(runsDir, entry, 'result.json'), 'utf8').catch(() => 'null')) as UnitResult | null;
    if (!result) continue;
    seconds.set(result.key, result.computeSeconds);
    checksums.set(result.config.dataset.name, result.config.dataset.checksum);
  }
  const claims = report.experiments.flatMap((e) => e.claims ?? []);
  const experiments = report.experiment === 'all' ? Object.values(EXPERIMENTS) : [EXPERIMENTS[report.experiment as keyof typeof EXPERIMENTS]];
  const units: Unit[] = [];
  for (const spec of experiments) {
    const checksum = checksums.get(spec.dataset);
    if (!checksum) continue; // an experiment the sweep skipped (no data here)
    const restricted = report.experiments.some((e) => e.omittedClaims?.length) ? restrictToClaims(spec, new Set(claims)) : spec;
    if (restricted) units.push(...planExperiment(restricted, report.preset, report.seeds, checksum).units);
  }
  const unique = [...new Map(units.map((u) => [u.key, u])).values()];
  const missing = unique.filter((u) => !seconds.has(u.key));
  if (missing.length > 0) throw new Error(`--replay ${out}: ${missing.length} of ${unique.length} units have no result.json (e.g. ${missing[0].role} seed ${missing[0].seed}); replay a complete sweep`);
  return {
    out,
    experiment: report.experiment,
    preset: report.preset,
    seeds: report.seeds,
    workers,
    units: unique.length,
    computeSeconds: [...seconds.values()].reduce((a, b) => a + b, 0),
    lowerBound: makespanLowerBound(unique, seconds, workers),
    orders: SCHEDULING_ORDERS.map((order) => simulateSchedule(unique, seconds, workers, order)),
  };
}

export function renderReplay(r: Replay): string {
  const lines = [
    `# Scheduling replay: ${r.experiment}, preset ${r.preset}, seeds ${r.seeds.join(',')}`,
    '',
    `${r.units} units, Σ compute ${r.computeSeconds.toFixed(1)} s (measured), on ${r.workers} workers in virtual time; lower bound max(longest chain, Σ ÷ workers) = ${r.lowerBound.toFixed(1)} s.`,
    '',
    '| order | makespan s | idle workers | over the bound |',
    '|---|--:|--:|--:|',
  ];
  for (const o of r.orders) lines.push(`| ${o.order} | ${o.makespan.toFixed(1)} | ${(o.idleFraction * 100).toFixed(1)}% | ${((o.makespan / r.lowerBound - 1) * 100).toFixed(1)}% |`);
  return lines.join('\n') + '\n';
}
