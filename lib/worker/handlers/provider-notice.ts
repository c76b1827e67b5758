import { alertOperators } from '@/lib/alerts/operator';
import { eventNote } from '@/lib/providers/catalog';
import type { ProviderName } from '@/lib/providers/registry';
import { defineHandler } from './types';

/**
 * Events a provider sends about its own delivery (Sly's `webhook.dlq`: it gave up on a delivery;
 * `webhook.failing`): operators hear about them as such, not as business events.
 */
export const providerNotice = (provider: ProviderName) =>
  defineHandler({
    parse: (data) => data,
    notify: async (data, event) => {
      alertOperators({
        kind: 'provider_notice',
        provider,
        eventType: event.eventType,
        note: eventNote(provider, event.eventType) ?? event.eventType,
        eventId: event.id,
        detail: JSON.stringify(data).slice(0, 500),
      });
    },
    apply: async () => 'applied' as const,
  });
