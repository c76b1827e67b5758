import { z } from 'zod';
import { firstValues, type RawSearchParams, toSearch, urlId } from '@/lib/api/page-params';

const DEFAULTS = { page: 1 } as const;

const schema = z.object({
  webhook: urlId,
  // The provider's own status names; the API checks them against its list.
  status: z
    .string()
    .regex(/^[a-z_]{1,32}$/)
    .optional()
    .catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).catch(DEFAULTS.page),
});
export type WebhooksParams = z.infer<typeof schema>;

export const parseWebhooksParams = (sp: RawSearchParams): WebhooksParams =>
  schema.parse({ page: DEFAULTS.page, ...firstValues(sp) });
export const webhooksSearch = (p: WebhooksParams) => toSearch(p, DEFAULTS);
