import { and, desc, eq, lt } from 'drizzle-orm';
import type { Queryable } from '../client';
import { keysetPage } from '../paging';
import { type EventStatus, events } from '../schema';
import { EVENT_COLUMNS } from './deliveries';

/** Processing state of unique events, newest first. */
export async function listEvents(
  db: Queryable,
  f: { source?: string; status?: EventStatus; event_type?: string },
  page: { limit: number; cursor?: number },
) {
  const rows = await db
    .select(EVENT_COLUMNS)
    .from(events)
    .where(
      and(
        f.source ? eq(events.source, f.source) : undefined,
        f.status ? eq(events.status, f.status) : undefined,
        f.event_type ? eq(events.eventType, f.event_type) : undefined,
        page.cursor !== undefined ? lt(events.id, page.cursor) : undefined,
      ),
    )
    .orderBy(desc(events.id))
    .limit(page.limit + 1);
  return keysetPage(rows, page.limit);
}
