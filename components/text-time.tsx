'use client';

import { formatTime } from '@/lib/format';
import { useTimeZone } from '@/lib/time-zone';

/** A moment in the operator's chosen zone, with the exact ISO timestamp (UTC) on hover. */
export function TextTime({ iso, empty = '—' }: { iso: string | null | undefined; empty?: string }) {
  const { timeZone } = useTimeZone();
  if (!iso) return <>{empty}</>;
  return (
    <time dateTime={iso} title={new Date(iso).toISOString()}>
      {formatTime(iso, timeZone)}
    </time>
  );
}
