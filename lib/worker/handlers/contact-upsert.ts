import { sql } from 'drizzle-orm';
import { z } from 'zod';
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

const contactSchema = z.looseObject({
  id: providerId,
  name: z.string().nullish(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
  type: z.string().nullish(),
  status: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
});

const target = (v: z.infer<typeof contactSchema>, event: HandlerEvent): VersionTarget => ({
  source: event.source,
  entity: 'contact',
  id: v.id,
  version: versionOf(v, ['updated_at', 'created_at'], event),
  deleted: false,
});

/**
 * contact.created and contact.updated: upsert by the provider's contact id, unless a newer state (or a
 * deletion) is already stored: version = the contact's `updated_at`, else `created_at`, else the
 * event's timestamp.
 */
export const contactUpsert = defineHandler({
  target,
  parse: (data) => contactSchema.parse(entity(data, 'contact')),
  apply: async (tx, c, event) => {
    // contact.updated may carry only the changed fields (provider-contract.md C3): keep the others.
    const won = await writeIfNewer(
      tx,
      { ...target(c, event), eventId: event.id },
      (won) => sql`
        insert into contacts (source, id, name, email, phone, channel, status, tags, data, source_event_id, updated_at)
        select ${event.source}::text, ${dbId(c.id)}::bigint, ${c.name ?? null}::text, ${c.email ?? null}::text, ${c.phone ?? null}::text,
               ${c.type ?? null}::text, ${c.status ?? null}::text,
               ${c.tags == null ? null : JSON.stringify(c.tags)}::jsonb, ${exactJsonb(c)}, ${event.id}::bigint,
               ${new Date().toISOString()}::timestamptz
         where ${won}
        on conflict (source, id) do update set
          name = coalesce(excluded.name, contacts.name),
          email = coalesce(excluded.email, contacts.email),
          phone = coalesce(excluded.phone, contacts.phone),
          channel = coalesce(excluded.channel, contacts.channel),
          status = coalesce(excluded.status, contacts.status),
          tags = coalesce(excluded.tags, contacts.tags),
          data = contacts.data || excluded.data,
          source_event_id = excluded.source_event_id,
          updated_at = excluded.updated_at`,
    );
    return won ? 'applied' : 'skipped_stale';
  },
});
