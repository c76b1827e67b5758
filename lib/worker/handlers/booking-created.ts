import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { postNotification, slackText } from '@/lib/notify';
import {
  dbId,
  defineHandler,
  entity,
  exactJsonb,
  type HandlerEvent,
  providerId,
  type VersionTarget,
  versionOf,
  writeIfNewer,
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
  source: event.source,
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
    const at = (iso: string | null | undefined) => (iso ? new Date(iso).toISOString() : null);
    const won = await writeIfNewer(
      tx,
      { ...target(b, event), eventId: event.id },
      (won) => sql`
        insert into bookings (source, id, contact_id, title, starts_at, ends_at, status, data, source_event_id)
        select ${event.source}::text, ${dbId(b.id)}::bigint, ${b.contact_id ? dbId(b.contact_id) : null}::bigint, ${b.title ?? null}::text,
               ${at(b.starts_at)}::timestamptz, ${at(b.ends_at)}::timestamptz, ${b.status ?? null}::text,
               ${exactJsonb(b)}, ${event.id}::bigint
         where ${won}
        on conflict (source, id) do update set
          title = excluded.title, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
          status = excluded.status, data = excluded.data, source_event_id = excluded.source_event_id,
          updated_at = now()`,
    );
    return won ? 'applied' : 'skipped_stale';
  },
});
