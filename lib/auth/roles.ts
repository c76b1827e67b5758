import type { Role } from '@/db/schema';

// No runtime imports: client components read this to hide or disable what a role may not do.
export type { Role };

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
/** The roles from least to most, for pickers. */
export const ROLE_NAMES = Object.keys(RANK) as Role[];

export function hasRole(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** The lesser of two roles: an API token never acts above its owner's current role. */
export function lesserRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

/** Why a control is disabled, in words the person can act on. */
export function roleReason(needed: Role): string {
  return `Needs the ${needed} role; ask an admin.`;
}
