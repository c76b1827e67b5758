import { qs } from '@/lib/queries/fetch-json';

/** Download links for what the view is filtered to, as CSV and as NDJSON (streamed by the server). */
export function LinkExport({
  endpoint,
  filter,
}: {
  endpoint: string;
  filter: Record<string, string | number | null | undefined>;
}) {
  return (
    <span className="row" style={{ fontSize: '0.9rem' }}>
      Export:
      <a href={`${endpoint}${qs({ ...filter, format: 'csv' })}`} download>
        CSV
      </a>
      <a href={`${endpoint}${qs({ ...filter, format: 'ndjson' })}`} download>
        NDJSON
      </a>
    </span>
  );
}
