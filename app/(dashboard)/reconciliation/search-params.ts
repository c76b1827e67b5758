import {
  createLoader,
  createSerializer,
  type inferParserType,
  parseAsInteger,
  parseAsStringLiteral,
} from 'nuqs/server';
import { RECONCILIATION_CLASSES } from '@/db/schema';
import { parseAsIsoTime, parseAsText } from '@/lib/api/page-params';
import { TIME_RANGES } from '@/lib/metrics/buckets';

export const reconciliationParsers = {
  source: parseAsText,
  webhook: parseAsInteger,
  class: parseAsStringLiteral(RECONCILIATION_CLASSES),
  range: parseAsStringLiteral([...TIME_RANGES, 'all'] as const).withDefault('all'),
  from: parseAsIsoTime,
  to: parseAsIsoTime,
};
export type ReconciliationParams = inferParserType<typeof reconciliationParsers>;

export const loadReconciliationParams = createLoader(reconciliationParsers);
export const reconciliationUrl = createSerializer(reconciliationParsers);
