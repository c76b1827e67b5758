import { createLoader, createSerializer, type inferParserType, parseAsStringLiteral } from 'nuqs/server';
import { AUDIT_ACTIONS } from '@/db/schema';
import { parseAsIsoTime, parseAsText } from '@/lib/api/page-params';
import { TIME_RANGES } from '@/lib/metrics/buckets';

export const auditParsers = {
  actor: parseAsText,
  action: parseAsStringLiteral(AUDIT_ACTIONS),
  range: parseAsStringLiteral([...TIME_RANGES, 'all'] as const).withDefault('all'),
  from: parseAsIsoTime,
  to: parseAsIsoTime,
};
export type AuditParams = inferParserType<typeof auditParsers>;

export const loadAuditParams = createLoader(auditParsers);
export const auditUrl = createSerializer(auditParsers);
