'use client';

import { hasRole, type Role, roleReason } from '@/lib/auth/roles';
import { useMe } from './provider-me';

/**
 * Says why this page's actions are disabled for the logged-in person, or nothing when they may act.
 * Pair it with `useLocked(role)` on the controls themselves.
 */
export function NoteRole({ needed, what }: { needed: Role; what: string }) {
  const me = useMe();
  if (hasRole(me.role, needed)) return null;
  return (
    <div className="alert" role="note" data-testid="note-role">
      You are logged in as {me.role === 'viewer' ? 'a viewer' : `an ${me.role}`}: {what} are disabled.{' '}
      {roleReason(needed)}
    </div>
  );
}

/** The reason a control is disabled for this person (for `title`), or undefined when allowed. */
export function useLocked(needed: Role): string | undefined {
  const me = useMe();
  return hasRole(me.role, needed) ? undefined : roleReason(needed);
}
