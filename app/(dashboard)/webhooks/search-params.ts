import { createLoader, createParser, createSerializer, type inferParserType } from 'nuqs/server';
import { parseAsId } from '@/lib/api/page-params';

// The provider's page number; past 100,000 is not a page anyone reaches by clicking.
const parseAsPage = createParser({
  parse: (v) => (/^[1-9][0-9]{0,5}$/.test(v) && Number(v) <= 100_000 ? Number(v) : null),
  serialize: (v: number) => String(v),
});
// The provider's own delivery status names; its API checks them against its list.
const parseAsProviderStatus = createParser({
  parse: (v) => (/^[a-z_]{1,32}$/.test(v) ? v : null),
  serialize: (v: string) => v,
});

export const webhooksParsers = {
  webhook: parseAsId,
  status: parseAsProviderStatus,
  page: parseAsPage.withDefault(1),
};
export type WebhooksParams = inferParserType<typeof webhooksParsers>;

export const loadWebhooksParams = createLoader(webhooksParsers);
export const webhooksUrl = createSerializer(webhooksParsers);
