import { createLoader, createSerializer, type inferParserType, parseAsStringLiteral } from 'nuqs/server';
import { FAILURE_CLASSES } from '@/db/filters';
import { parseAsEventType, parseAsId, parseAsSource, parseAsText } from '@/lib/api/page-params';

export const dlqParsers = {
  source: parseAsSource,
  event_type: parseAsEventType,
  failure: parseAsStringLiteral(FAILURE_CLASSES),
  error: parseAsText,
  q: parseAsText,
  selected: parseAsId,
  /** `expiring`: oldest first, the order their raw receipts reach RETENTION_DAYS. */
  sort: parseAsStringLiteral(['newest', 'expiring'] as const),
};
export type DlqParams = inferParserType<typeof dlqParsers>;

export const loadDlqParams = createLoader(dlqParsers);
export const dlqUrl = createSerializer(dlqParsers);
