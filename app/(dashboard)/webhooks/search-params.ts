import {
  createLoader,
  createParser,
  createSerializer,
  type inferParserType,
  parseAsStringLiteral,
} from 'nuqs/server';
import { parseAsId } from '@/lib/api/page-params';
import { DELIVERY_STATUS_FILTERS } from '@/lib/providers/skylight/client-schemas';

// The provider's page number; past 100,000 is not a page anyone reaches by clicking.
const parseAsPage = createParser({
  parse: (v) => (/^[1-9][0-9]{0,5}$/.test(v) && Number(v) <= 100_000 ? Number(v) : null),
  serialize: (v: number) => String(v),
});

export const webhooksParsers = {
  webhook: parseAsId,
  status: parseAsStringLiteral(DELIVERY_STATUS_FILTERS),
  page: parseAsPage.withDefault(1),
};
export type WebhooksParams = inferParserType<typeof webhooksParsers>;

export const loadWebhooksParams = createLoader(webhooksParsers);
export const webhooksUrl = createSerializer(webhooksParsers);
