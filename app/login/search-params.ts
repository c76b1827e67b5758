import { z } from 'zod';
import { firstValues, type RawSearchParams } from '@/lib/api/page-params';

/** Where to go after login: a path on this site only, never another origin ("//evil", "https:"). */
const schema = z.object({
  next: z
    .string()
    .max(2000)
    .regex(/^\/(?![/\\])/)
    .catch('/')
    .default('/'),
});
export type LoginParams = z.infer<typeof schema>;

export const parseLoginParams = (sp: RawSearchParams): LoginParams => schema.parse(firstValues(sp));
