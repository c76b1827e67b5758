import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { contacts } from '@/db/schema';
import { dbId, defineHandler, entity, providerId } from './types';

const schema = z.looseObject({ id: providerId });

/** contact.deleted: remove the row; deleting twice is a no-op. */
export const contactDeleted = defineHandler({
  parse: (data) => schema.parse(entity(data, 'contact')),
  apply: async (tx, c) => {
    await tx.delete(contacts).where(eq(contacts.id, dbId(c.id)));
  },
});
