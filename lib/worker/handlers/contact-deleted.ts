import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { contacts } from '@/db/schema';
import { claimVersion, dbId, defineHandler, entity, providerId, versionOf } from './types';

const schema = z.looseObject({ id: providerId });

/**
 * contact.deleted: remove the row and keep the deletion as the contact's version (`deleted_at`, else
 * the event's time), so a late contact.updated cannot bring it back. Deleting twice is a no-op.
 */
export const contactDeleted = defineHandler({
  parse: (data) => schema.parse(entity(data, 'contact')),
  apply: async (tx, c, event) => {
    const version = versionOf(c, ['deleted_at'], event);
    if (
      !(await claimVersion(tx, { entity: 'contact', id: c.id, version, deleted: true, eventId: event.id }))
    ) {
      return 'skipped_stale';
    }
    await tx.delete(contacts).where(eq(contacts.id, dbId(c.id)));
    return 'applied';
  },
});
