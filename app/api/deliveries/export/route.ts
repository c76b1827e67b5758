import { iterateDeliveries } from '@/db/queries/deliveries';
import { authed, parseQuery } from '@/lib/api/route';
import { deliveriesExportQuerySchema } from '@/lib/api/schemas';
import { exportFilename, exportResponse } from '@/lib/api/stream-export';
import { getDb } from '@/lib/db';

export const dynamic = 'force-dynamic';

const COLUMNS = [
  'id',
  'received_at',
  'source',
  'provider',
  'delivery_id',
  'attempt_id',
  'event_type',
  'outcome',
  'reason',
  'http_status',
  'ack_ms',
  'lag_ms',
  'event_id',
  'event_status',
  'body_bytes',
] as const;

export const GET = authed('viewer', async (request) => {
  const { format, ...filter } = parseQuery(deliveriesExportQuerySchema, request);
  const rows = iterateDeliveries(await getDb(), filter);
  return exportResponse(rows, COLUMNS, format, exportFilename('deliveries', filter));
});
