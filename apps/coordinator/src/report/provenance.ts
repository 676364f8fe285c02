import type { UnitStatus } from '../schedule/status.js';

/**
 * What a report's numbers were computed with, beyond the unit keys: the backend, the kernels'
 * threads per unit and the CPU. Two reports are bitwise comparable only where all three agree;
 * otherwise they agree within the tolerance of the determinism contract (README, "Determinism").
 * Cached units count too: a unit's numbers are those of the run that computed it.
 */
export interface Provenance {
  /** Each distinct combination, with how many of the report's units were computed with it. */
  configurations: { backend: string; threads: number | null; cpu: string | null; units: number }[];
  /** True when every unit ran with the same backend, threads and CPU (results without the record count as different). */
  uniform: boolean;
}

export function provenanceOf(statuses: Iterable<UnitStatus>): Provenance {
  const counts = new Map<string, Provenance['configurations'][number]>();
  for (const { result } of statuses) {
    if (!result) continue;
    const configuration = { backend: result.backend, threads: result.run?.threads ?? null, cpu: result.run?.cpu ?? null };
    const id = JSON.stringify(configuration);
    const entry = counts.get(id) ?? { ...configuration, units: 0 };
    entry.units++;
    counts.set(id, entry);
  }
  const configurations = [...counts.values()].sort((a, b) => b.units - a.units);
  return { configurations, uniform: configurations.length <= 1 && configurations.every((c) => c.threads !== null && c.cpu !== null) };
}

/** One line of plain text, for report.md and report.html. */
export function provenanceLine(p: Provenance): string {
  if (p.configurations.length === 0) return 'Provenance: no unit finished.';
  const describe = (c: Provenance['configurations'][number]) =>
    `${c.backend}, ${c.threads === null ? 'threads not recorded' : `${c.threads} thread${c.threads === 1 ? '' : 's'} per unit`}, ${c.cpu ?? 'CPU not recorded'} (${c.units} unit${c.units === 1 ? '' : 's'})`;
  const mixed = p.uniform ? '' : ' Not one setting (or not recorded): numbers match another run only within the tolerance of the determinism contract (README, Determinism).';
  return `Provenance: ${p.configurations.map(describe).join('; ')}.${mixed}`;
}
