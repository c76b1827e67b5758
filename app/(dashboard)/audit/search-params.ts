import { z } from 'zod';
import { firstValues, type RawSearchParams, toSearch, urlText } from '@/lib/api/page-params';
import { AUDIT_ACTION_LABELS } from '@/lib/audit-labels';
import { TIME_RANGES } from '@/lib/metrics/buckets';

const DEFAULTS = { range: 'all' } as const;

const schema = z.object({
  actor: urlText,
  action: z
    .string()
    .refine((a): a is keyof typeof AUDIT_ACTION_LABELS => a in AUDIT_ACTION_LABELS)
    .optional()
    .catch(undefined),
  range: z.enum([...TIME_RANGES, 'all']).catch(DEFAULTS.range),
});
export type AuditParams = z.infer<typeof schema>;

export const parseAuditParams = (sp: RawSearchParams): AuditParams =>
  schema.parse({ range: DEFAULTS.range, ...firstValues(sp) });
export const auditSearch = (p: AuditParams) => toSearch(p, DEFAULTS);
