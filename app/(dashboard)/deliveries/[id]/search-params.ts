import { z } from 'zod';

/** The path segment: a receipt id. Anything else is a 404, not an error page. */
export const deliveryIdParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const parseDeliveryId = (raw: string): number | null => {
  const r = /^[1-9][0-9]{0,14}$/.test(raw) ? deliveryIdParam.safeParse(raw) : null;
  return r?.success ? r.data : null;
};
