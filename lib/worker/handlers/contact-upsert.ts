import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { contacts } from '@/db/schema';
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
    if (!(await claimVersion(tx, { ...target(c, event), eventId: event.id }))) {
      return 'skipped_stale';
    }
    const row = {
      id: dbId(c.id),
      name: c.name ?? null,
      email: c.email ?? null,
      phone: c.phone ?? null,
      channel: c.type ?? null,
      status: c.status ?? null,
      tags: c.tags ?? null,
      data: exactJsonb(c),
      sourceEventId: event.id,
      updatedAt: new Date(),
    };
    // contact.updated may carry only the changed fields (provider-contract.md C3): keep the others.
    await tx
      .insert(contacts)
      .values(row)
      .onConflictDoUpdate({
        target: contacts.id,
        set: {
          name: sql`coalesce(excluded.name, ${contacts.name})`,
          email: sql`coalesce(excluded.email, ${contacts.email})`,
          phone: sql`coalesce(excluded.phone, ${contacts.phone})`,
          channel: sql`coalesce(excluded.channel, ${contacts.channel})`,
          status: sql`coalesce(excluded.status, ${contacts.status})`,
          tags: sql`coalesce(excluded.tags, ${contacts.tags})`,
          data: sql`${contacts.data} || excluded.data`,
          sourceEventId: sql`excluded.source_event_id`,
          updatedAt: sql`excluded.updated_at`,
        },
      });
    return 'applied';
  },
});
