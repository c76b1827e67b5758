import { BadgeStatus } from './badge-status';

const HINT = {
  transient: 'Transient: the same input may succeed once the cause (a downstream outage, a timeout) is over.',
  permanent: 'Permanent: a retry fails again until the code or the data changes.',
} as const;

/** How a dead letter's last attempt failed, with what that means for a retry. */
export function BadgeFailure({ value }: { value: 'transient' | 'permanent' | null }) {
  if (!value) return null;
  return (
    <span title={HINT[value]}>
      <BadgeStatus value={value} />
      <span className="visually-hidden"> ({HINT[value]})</span>
    </span>
  );
}
