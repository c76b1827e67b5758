import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { bookings } from '@/db/schema';
import { postNotification, slackText } from '@/lib/notify';
import {
  claimVersion,
  dbId,
  defineHandler,
  entity,
  exactJsonb,
  type HandlerEvent,
  providerId,
  type VersionTarget,
  versionOf,
} from './types';

const isoOrNull = z.iso.datetime({ offset: true }).nullish();
const schema = z.looseObject({
  id: providerId,
  contact_id: providerId.nullish(),
  title: z.string().max(1000).nullish(),
  starts_at: isoOrNull,
  ends_at: isoOrNull,
  status: z.string().max(100).nullish(),
});

const target = (v: z.infer<typeof schema>, event: HandlerEvent): VersionTarget => ({
  entity: 'booking',
  id: v.id,
  version: versionOf(v, ['updated_at', 'created_at'], event),
  deleted: false,
});

/** booking.created: upsert by the provider's booking id and notify. */
export const bookingCreated = defineHandler({
  target,
  parse: (data) => schema.parse(entity(data, 'booking')),
  notify: async (b, event, ctx) => {
    if (!ctx.notifyUrl) return;
    await postNotification(
      ctx.notifyUrl,
      slackText`New booking: ${b.title ?? `#${b.id}`}${b.starts_at ? ` at ${b.starts_at}` : ''}`,
      {
        event: event.eventType,
        delivery_id: event.deliveryId,
      },
    );
  },
  apply: async (tx, b, event) => {
    if (!(await claimVersion(tx, { ...target(b, event), eventId: event.id }))) {
      return 'skipped_stale';
    }
    const row = {
      id: dbId(b.id),
      contactId: b.contact_id ? dbId(b.contact_id) : null,
      title: b.title ?? null,
      startsAt: b.starts_at ? new Date(b.starts_at) : null,
      endsAt: b.ends_at ? new Date(b.ends_at) : null,
      status: b.status ?? null,
      data: exactJsonb(b),
      sourceEventId: event.id,
    };
    await tx
      .insert(bookings)
      .values(row)
      .onConflictDoUpdate({
        target: bookings.id,
        set: {
          title: sql`excluded.title`,
          startsAt: sql`excluded.starts_at`,
          endsAt: sql`excluded.ends_at`,
          status: sql`excluded.status`,
          data: sql`excluded.data`,
          sourceEventId: sql`excluded.source_event_id`,
          updatedAt: sql`now()`,
        },
      });
    return 'applied';
  },
});
