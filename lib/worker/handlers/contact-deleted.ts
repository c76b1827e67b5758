import { sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  dbId,
  defineHandler,
  entity,
  type HandlerEvent,
  providerId,
  type VersionTarget,
  versionOf,
  writeIfNewer,
} from './types';

const schema = z.looseObject({ id: providerId });

const target = (v: z.infer<typeof schema>, event: HandlerEvent): VersionTarget => ({
  source: event.source,
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
    // The delete is a statement of its own, after the claim: the claim may have waited for a worker
    // that was creating this contact, and a statement sees only rows committed before it began, so a
    // delete inside the claim's statement would miss the new row and leave it behind a deletion.
    const won = await writeIfNewer(tx, { ...target(c, event), eventId: event.id }, null);
    if (won)
      await tx.execute(
        sql`delete from contacts where source = ${event.source} and id = ${dbId(c.id)}::bigint`,
      );
    return won ? 'applied' : 'skipped_stale';
  },
});
