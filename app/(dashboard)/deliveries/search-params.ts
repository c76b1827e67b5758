import {
  createLoader,
  createSerializer,
  type inferParserType,
  parseAsArrayOf,
  parseAsStringLiteral,
} from 'nuqs/server';
import { PROCESSING_FILTERS } from '@/db/filters';
import { RECEIPT_OUTCOMES } from '@/db/schema';
import {
  parseAsEventType,
  parseAsFlag,
  parseAsIsoTime,
  parseAsSource,
  parseAsText,
} from '@/lib/api/page-params';
import { TIME_RANGES } from '@/lib/metrics/buckets';

export const deliveriesParsers = {
  range: parseAsStringLiteral([...TIME_RANGES, 'all'] as const).withDefault('24h'),
  from: parseAsIsoTime,
  to: parseAsIsoTime,
  source: parseAsSource,
  // `outcome=accepted,duplicate`: any of them.
  outcome: parseAsArrayOf(parseAsStringLiteral(RECEIPT_OUTCOMES)).withDefault([]),
  status: parseAsStringLiteral(PROCESSING_FILTERS),
  event_type: parseAsEventType,
  q: parseAsText,
  // Content search (issue 17): text anywhere in the payload; a JSON path equal to a value.
  text: parseAsText,
  path: parseAsText,
  value: parseAsText,
  live: parseAsFlag.withDefault(false),
};
export type DeliveriesParams = inferParserType<typeof deliveriesParsers>;

export const loadDeliveriesParams = createLoader(deliveriesParsers);
export const deliveriesUrl = createSerializer(deliveriesParsers);
