import { iterateAudit } from '@/db/queries/audit';
import { authed, parseQuery } from '@/lib/api/route';
import { auditExportQuery } from '@/lib/api/schemas';
import { exportFilename, exportResponse } from '@/lib/api/stream-export';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

const COLUMNS = [
  'id',
  'at',
  'actor',
  'token_name',
  'action',
  'target',
  'result',
  'code',
  'ip',
  'detail',
] as const;

export const GET = authed('viewer', async (request) => {
  const { format, ...filter } = parseQuery(auditExportQuery, request);
  return exportResponse(
    iterateAudit(await getDb(), filter),
    COLUMNS,
    format,
    exportFilename('audit', filter),
  );
});
