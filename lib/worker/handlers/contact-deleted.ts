import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { contacts } from '@/db/schema';
import {
  claimVersion,
  dbId,
  defineHandler,
  entity,
  type HandlerEvent,
  providerId,
  type VersionTarget,
  versionOf,
} from './types';

const schema = z.looseObject({ id: providerId });

const target = (v: z.infer<typeof schema>, event: HandlerEvent): VersionTarget => ({
  entity: 'contact',
  id: v.id,
  version: versionOf(v, ['deleted_at'], event),
  deleted: true,
});

/**
 * contact.deleted: remove the row and keep the deletion as the contact's version (`deleted_at`, else
 * the event's time), so a late contact.updated cannot bring it back. Deleting twice is a no-op.
 */
export const contactDeleted = defineHandler({
  target,
  parse: (data) => schema.parse(entity(data, 'contact')),
  apply: async (tx, c, event) => {
    if (!(await claimVersion(tx, { ...target(c, event), eventId: event.id }))) {
      return 'skipped_stale';
    }
    await tx.delete(contacts).where(eq(contacts.id, dbId(c.id)));
    return 'applied';
  },
});
