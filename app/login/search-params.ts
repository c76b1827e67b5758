import { firstValues, type RawSearchParams } from '@/lib/api/page-params';
import { safeNextPath } from '@/lib/auth/redirect';

export type LoginParams = { next: string };

/** Where to go after login: a path on this site only (see safeNextPath). */
export const parseLoginParams = (sp: RawSearchParams): LoginParams => ({
  next: safeNextPath(firstValues(sp).next),
});
