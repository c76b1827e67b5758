import { z } from 'zod';
import { firstValues, type RawSearchParams, toSearch, urlEventType } from '@/lib/api/page-params';
import { TIME_RANGES } from '@/lib/metrics/buckets';

const DEFAULTS = { range: '1h' } as const;

const schema = z.object({
  range: z.enum(TIME_RANGES).catch(DEFAULTS.range),
  event_type: urlEventType,
});
export type OverviewParams = z.infer<typeof schema>;

export const parseOverviewParams = (sp: RawSearchParams): OverviewParams => schema.parse(firstValues(sp));
export const overviewSearch = (p: OverviewParams) => toSearch(p, DEFAULTS);
