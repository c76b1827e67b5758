import { createLoader, createSerializer, type inferParserType, parseAsStringLiteral } from 'nuqs/server';
import { parseAsEventType, parseAsIsoTime, parseAsSource } from '@/lib/api/page-params';
import { TIME_RANGES } from '@/lib/metrics/buckets';

export const overviewParsers = {
  range: parseAsStringLiteral(TIME_RANGES).withDefault('1h'),
  event_type: parseAsEventType,
  source: parseAsSource,
  from: parseAsIsoTime,
  to: parseAsIsoTime,
};
export type OverviewParams = inferParserType<typeof overviewParsers>;

export const loadOverviewParams = createLoader(overviewParsers);
export const overviewUrl = createSerializer(overviewParsers);
