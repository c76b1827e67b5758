'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { verdictOptions } from '@/lib/queries/alerts';
import { describeApiError } from './state-error';

const TONE = { none: 'ok', provider: 'warn', ours: 'bad', both: 'bad' } as const;

/** The overview's one line: whose side the trouble is on right now, with the evidence. */
export function StatusVerdict() {
  const q = useQuery(verdictOptions());
  // A failed refresh must not leave the last "All clear." standing (react-query keeps the old data).
  if (q.isError) {
    return (
      <div className="alert" data-tone="warn" role="status" data-testid="verdict">
        <strong>Verdict unavailable.</strong> {describeApiError(q.error).detail}
      </div>
    );
  }
  if (!q.data) return null;
  const v = q.data;
  return (
    <div className="alert" data-tone={TONE[v.side]} role="status" data-testid="verdict">
      <strong>{v.side === 'none' ? 'All clear.' : 'Trouble now.'}</strong> {v.line}{' '}
      {v.evidence.length > 0 && <Link href="/alerts">See the alerts</Link>}
    </div>
  );
}
