import { iterateDeadLetters } from '@/db/queries/dlq';
import { authed, parseQuery } from '@/lib/api/route';
import { dlqExportQuerySchema } from '@/lib/api/schemas';
import { exportFilename, exportResponse } from '@/lib/api/stream-export';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

const COLUMNS = [
  'id',
  'dead_at',
  'source',
  'provider',
  'delivery_id',
  'event_type',
  'failure',
  'last_error',
  'total_attempts',
  'first_failure_at',
  'last_failure_at',
  'created_at',
] as const;

export const GET = authed('viewer', async (request) => {
  const { format, ...filter } = parseQuery(dlqExportQuerySchema, request);
  const rows = iterateDeadLetters(await getDb(), filter);
  return exportResponse(rows, COLUMNS, format, exportFilename('dead-letters', filter));
});
