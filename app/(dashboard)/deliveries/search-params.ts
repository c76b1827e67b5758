import { z } from 'zod';
import { RECEIPT_OUTCOMES } from '@/db/schema';
import {
  firstValues,
  type RawSearchParams,
  toSearch,
  urlEventType,
  urlSource,
  urlText,
} from '@/lib/api/page-params';
import { TIME_RANGES } from '@/lib/metrics/buckets';

const DEFAULTS = { range: '24h' } as const;

const schema = z.object({
  range: z.enum([...TIME_RANGES, 'all']).catch(DEFAULTS.range),
  source: urlSource,
  outcome: z.enum(RECEIPT_OUTCOMES).optional().catch(undefined),
  event_type: urlEventType,
  q: urlText,
  live: z
    .enum(['1'])
    .optional()
    .catch(undefined)
    .transform((v) => v === '1'),
});
export type DeliveriesParams = z.infer<typeof schema>;

export const parseDeliveriesParams = (sp: RawSearchParams): DeliveriesParams => schema.parse(firstValues(sp));
export const deliveriesSearch = (p: DeliveriesParams) =>
  toSearch({ ...p, live: p.live ? '1' : undefined }, DEFAULTS);
