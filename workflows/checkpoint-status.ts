/**
 * Lightning's checkpoint statuses (LIGHTNING-COMPAT.md §3), per table and per engine.
 * A failed stage is stored as the stage divided by 10; anything at or below 25 needs an operator.
 */
export const CheckpointStatus = {
  missing: 0,
  loaded: 30,
  allWritten: 60,
  closed: 90,
  imported: 120,
  indexImported: 140,
  alteredAutoInc: 150,
  checksumSkipped: 170,
  checksummed: 180,
  indexAdded: 190,
  analyzeSkipped: 200,
  analyzed: 210,
} as const;

export type CheckpointStatusCode = number;

export function failedStatus(stage: CheckpointStatusCode): CheckpointStatusCode {
  return Math.floor(stage / 10);
}

export function isFailedStatus(status: CheckpointStatusCode): boolean {
  return status <= 25 && status !== CheckpointStatus.missing;
}

const names: Record<number, string> = Object.fromEntries(Object.entries(CheckpointStatus).map(([name, code]) => [code, name]));

/** A status as an operator reads it: `checksummed`, or `failed while allWritten`. */
export function describeStatus(status: CheckpointStatusCode): string {
  if (isFailedStatus(status)) return `failed at ${names[status * 10] ?? status * 10}`;
  return names[status] ?? String(status);
}
