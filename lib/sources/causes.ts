import type { SignatureCause } from '@/db/schema';

/** Short names for a refused signature's cause (the overview's breakdown, the delivery page, alerts). */
export const SIGNATURE_CAUSE_LABELS: Record<SignatureCause, string> = {
  no_signature_header: 'no signature header',
  wrong_encoding: 'wrong scheme or encoding',
  timestamp_outside_tolerance: 'timestamp outside tolerance',
  retired_secret: 'matches a retired secret',
  whsec_prefix: 'whsec_ prefix added or removed',
  other_source_secret: "matches another source's secret",
  body_reserialised: 're-serialised body',
  current_secret: 'matches a current secret',
  no_known_secret: 'no known secret matches',
  not_analysed: 'not analysed (cap)',
};
