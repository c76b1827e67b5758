'use client';

import { zoneLabel } from '@/lib/format';
import { useTimeZone } from '@/lib/time-zone';

/** The name of the zone times are shown in, for column headers and chart captions. */
export function TextTimeZone() {
  return <>{zoneLabel(useTimeZone().timeZone)}</>;
}
