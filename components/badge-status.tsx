const TONES: Record<string, 'ok' | 'warn' | 'bad' | 'info' | undefined> = {
  accepted: 'ok',
  processed: 'ok',
  delivered: 'ok',
  success: 'ok',
  duplicate: 'info',
  pending: 'info',
  processing: 'info',
  ignored: undefined,
  discarded: undefined,
  transient: 'warn',
  unavailable: 'warn',
  lease_lost: 'warn',
  rejected: 'bad',
  malformed: 'bad',
  dead: 'bad',
  failed: 'bad',
  permanent: 'bad',
};

/** A coloured pill for outcomes, event statuses and attempt results. */
export function BadgeStatus({ value }: { value: string }) {
  return (
    <span className="badge" data-tone={TONES[value]}>
      {value}
    </span>
  );
}
