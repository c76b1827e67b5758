export type ExportFormat = 'csv' | 'ndjson';

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or CR before one) as a formula:
 * `=HYPERLINK(...)` in an audit target would run on the reader's machine. Such cells get a leading
 * apostrophe, which spreadsheets show as text (OWASP's CSV injection advice).
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  // A number is a number (a negative lag is -120, not text).
  if (typeof value !== 'number' && typeof value !== 'bigint' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/**
 * The file name says what the file holds: `deliveries_outcome-ignored_text-a@b.test`. Values are cut
 * to 40 characters and reduced to characters every file system and the Content-Disposition header
 * take (times lose their colons).
 */
export function exportFilename(base: string, filters: Record<string, unknown>): string {
  const parts = [base];
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined || value === null) continue;
    const text =
      value instanceof Date ? value.toISOString() : Array.isArray(value) ? value.join('+') : String(value);
    const safe = text
      .replace(/[^A-Za-z0-9.@+-]+/g, '-')
      .slice(0, 40)
      .replace(/^-+|-+$/g, '');
    parts.push(`${key}-${safe}`);
  }
  return parts.join('_').slice(0, 180);
}

/**
 * Streams rows as CSV (a header line, then one line per row) or NDJSON, pulling the next row only
 * when the client has read the previous chunk, so memory stays one page of rows. The first row is
 * read before the answer: a query that fails (the database down, a statement timeout) is its error
 * status, not a 200 whose file ends early.
 */
export async function exportResponse<T extends Record<string, unknown>>(
  rows: AsyncIterable<T>,
  columns: readonly (keyof T & string)[],
  format: ExportFormat,
  filename: string,
): Promise<Response> {
  const encoder = new TextEncoder();
  const it = rows[Symbol.asyncIterator]();
  let first: IteratorResult<T> | null = await it.next();
  let headerSent = format !== 'csv';
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(csvLine([...columns])));
        return;
      }
      const next = first ?? (await it.next());
      first = null;
      if (next.done) {
        controller.close();
        return;
      }
      const row = next.value;
      const line =
        format === 'csv'
          ? csvLine(columns.map((c) => row[c]))
          : `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c]])))}\n`;
      controller.enqueue(encoder.encode(line));
    },
    async cancel() {
      await it.return?.();
    },
  });
  return new Response(stream, {
    headers: {
      'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="${filename}.${format === 'csv' ? 'csv' : 'ndjson'}"`,
      'Cache-Control': 'no-store',
    },
  });
}
