'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { verdictOptions } from '@/lib/queries/alerts';

const TONE = { none: 'ok', provider: 'warn', ours: 'bad', both: 'bad' } as const;

/** The overview's one line: whose side the trouble is on right now, with the evidence. */
export function StatusVerdict() {
  const q = useQuery(verdictOptions());
  if (!q.data) return null;
  const v = q.data;
  return (
    <div className="alert" data-tone={TONE[v.side]} role="status" data-testid="verdict">
      <strong>{v.side === 'none' ? 'All clear.' : 'Trouble now.'}</strong> {v.line}{' '}
      {v.evidence.length > 0 && <Link href="/alerts">See the alerts</Link>}
    </div>
  );
}
