import type { ProviderLogEntry, ProviderLogPage } from '@/lib/providers/types';
import { chainKeyOf, type Reconciled } from './classify';

/** One page of a webhook's delivery log, newest first; `status` reads only the attempts in that state. */
export type LogPageReader = (page: number, status?: 'pending' | 'failed') => Promise<ProviderLogPage>;

export type LogRead = {
  entries: ProviderLogEntry[];
  /** Deliveries (chain keys) seen only past the newest pages, through the status filters. */
  beyond: Set<string>;
  /** False when a filtered read hit its page cap: more failed or pending attempts may exist. */
  complete: boolean;
};

/**
 * A webhook's delivery log back to `since`: the newest `pages` pages and, when they end inside the
 * window (a busy webhook), up to `filteredPages` pages each of its pending and failed attempts. A
 * delivery given up 42 min after its first attempt is by then far behind the newest pages, and out of
 * view it would look settled. Pending attempts are kept whatever their age (they are due).
 *
 * Each row counts once, as last read: the log is paged by offset and newest first, so deliveries that
 * arrive between two requests shift rows onto the next page, and a row read twice (pending on one
 * page, failed on the next) was counted as two attempts.
 */
export async function readDeliveryLog(
  read: LogPageReader,
  o: { since: number; pages: number; filteredPages: number },
): Promise<LogRead> {
  const byRow = new Map<string, ProviderLogEntry>();
  const beyond = new Set<string>();
  if (await readPages(read, o.since, o.pages, undefined, byRow)) {
    return { entries: [...byRow.values()], beyond, complete: true };
  }
  const newest = new Set([...byRow.values()].map(chainKeyOf));
  let complete = true;
  for (const status of ['pending', 'failed'] as const) {
    complete = (await readPages(read, o.since, o.filteredPages, status, byRow)) && complete;
  }
  for (const e of byRow.values()) {
    const key = chainKeyOf(e);
    if (!newest.has(key)) beyond.add(key);
  }
  return { entries: [...byRow.values()], beyond, complete };
}

/** Pages until the window's start, the last page or the cap; true unless the cap cut it. */
async function readPages(
  read: LogPageReader,
  since: number,
  cap: number,
  status: 'pending' | 'failed' | undefined,
  into: Map<string, ProviderLogEntry>,
): Promise<boolean> {
  for (let page = 1; page <= cap; page++) {
    const got = await read(page, status);
    for (const e of got.entries) {
      if (e.sentAt.getTime() >= since || e.status === 'pending') into.set(e.rowId, e);
    }
    const last = got.entries.at(-1);
    const pastWindow = status !== 'pending' && last !== undefined && last.sentAt.getTime() < since;
    if (!last || pastWindow || (got.lastPage !== null && page >= got.lastPage)) return true;
  }
  return false;
}

/**
 * Whether a reconciled delivery is known from what was read. Past the newest pages only failed and
 * pending attempts were read, so a failed attempt whose retry was delivered looks like a delivery
 * that stopped: there only a retry still due, or the provider's final attempt, is known.
 */
export function knownFromRead(r: Reconciled, read: LogRead, finalAttempt: number): boolean {
  return !read.beyond.has(r.chainKey) || r.providerStatus === 'pending' || r.attemptNumber >= finalAttempt;
}
