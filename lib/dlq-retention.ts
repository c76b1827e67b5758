// Dead letters are never pruned while dead, but their raw receipts (headers and body as received)
// are, RETENTION_DAYS after arrival (db/queries/maintenance.ts pruneOld); a dead letter retried or
// discarded after that is pruned with them. These say when, so nobody is surprised. A receipt in a
// day table goes with its whole day, up to a day later than this says: the date given is the earliest.

const DAY_MS = 86_400_000;

/** When the raw receipts of an event created at `createdAt` are pruned. */
export function keptUntil(createdAt: Date | string, retentionDays: number): Date {
  return new Date(new Date(createdAt).getTime() + retentionDays * DAY_MS);
}

/** The creation time before which an event's receipts are pruned within `withinDays` from `now`. */
export function createdBeforeFor(withinDays: number, retentionDays: number, now = Date.now()): Date {
  return new Date(now - Math.max(0, retentionDays - withinDays) * DAY_MS);
}
