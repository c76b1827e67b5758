import { createLoader, createSerializer, type inferParserType, parseAsStringLiteral } from 'nuqs/server';
import { FAILURE_CLASSES } from '@/db/filters';
import {
  parseAsEventType,
  parseAsId,
  parseAsIsoTime,
  parseAsSource,
  parseAsText,
} from '@/lib/api/page-params';
import { TIME_RANGES } from '@/lib/metrics/buckets';

export const dlqParsers = {
  source: parseAsSource,
  event_type: parseAsEventType,
  failure: parseAsStringLiteral(FAILURE_CLASSES),
  error: parseAsText,
  q: parseAsText,
  // Content search (issue 17): text anywhere in the payload; a JSON path equal to a value.
  text: parseAsText,
  path: parseAsText,
  value: parseAsText,
  selected: parseAsId,
  // When the event was dead-lettered.
  range: parseAsStringLiteral([...TIME_RANGES, 'all'] as const).withDefault('all'),
  from: parseAsIsoTime,
  to: parseAsIsoTime,
  /** `expiring`: oldest first, the order their raw receipts reach RETENTION_DAYS. */
  sort: parseAsStringLiteral(['newest', 'expiring'] as const),
};
export type DlqParams = inferParserType<typeof dlqParsers>;

export const loadDlqParams = createLoader(dlqParsers);
export const dlqUrl = createSerializer(dlqParsers);
