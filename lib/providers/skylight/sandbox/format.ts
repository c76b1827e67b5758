import { randomBytes, randomUUID } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random alphanumeric string; rejection sampling keeps every character equally likely. */
export function randomAlnum(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALNUM[b % 62];
    }
  }
  return out;
}

/** `whsec_` + 64 characters, the format the Webhooks API example shows (provider-contract.md C9). */
export function newWebhookSecret(): string {
  return `whsec_${randomAlnum(64)}`;
}

/** `sk_live_` + 40 characters (authentication page, version A). */
export function newApiKey(): string {
  return `sk_live_${randomAlnum(40)}`;
}

export const newDeliveryId = randomUUID;

/** SkyLight's timestamp format: ISO 8601 UTC with 6 fractional digits. */
export function isoMicro(date: Date | number): string {
  return new Date(date).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function unixSeconds(date: Date | number): number {
  return Math.floor(new Date(date).getTime() / 1000);
}
