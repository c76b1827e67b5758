import { createLoader, createSerializer, type inferParserType, parseAsStringLiteral } from 'nuqs/server';
import { RECEIPT_OUTCOMES } from '@/db/schema';
import { parseAsEventType, parseAsFlag, parseAsText } from '@/lib/api/page-params';
import { TIME_RANGES } from '@/lib/metrics/buckets';

export const deliveriesParsers = {
  range: parseAsStringLiteral([...TIME_RANGES, 'all'] as const).withDefault('24h'),
  outcome: parseAsStringLiteral(RECEIPT_OUTCOMES),
  event_type: parseAsEventType,
  q: parseAsText,
  live: parseAsFlag.withDefault(false),
};
export type DeliveriesParams = inferParserType<typeof deliveriesParsers>;

export const loadDeliveriesParams = createLoader(deliveriesParsers);
export const deliveriesUrl = createSerializer(deliveriesParsers);
