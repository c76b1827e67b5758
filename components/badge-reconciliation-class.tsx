const TONES: Record<string, 'ok' | 'warn' | 'bad' | 'info'> = {
  matched: 'ok',
  acked_late: 'warn',
  answered_non_2xx: 'warn',
  never_received: 'warn',
  provider_failed: 'bad',
};

/** A reconciliation class as a coloured pill: green in hand, amber savable, red lost. */
export function BadgeReconciliationClass({ value }: { value: string }) {
  return (
    <span className="badge" data-tone={TONES[value]}>
      {value}
    </span>
  );
}
