import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROVIDERS } from '@/lib/providers/registry';
import { HANDLERS, type HandlerTable, handlerFor } from './index';
import { recordOnly } from './record-only';

// The registry's guarantees are compile-time ones: `npm run check` fails if either directive below
// stops being an error.
const { 'booking.created': _dropped, ...skylightWithGap } = HANDLERS.skylight;
// @ts-expect-error a documented event without a handler
export const withGap: HandlerTable = { ...HANDLERS, skylight: skylightWithGap };
export const withStranger: HandlerTable = {
  ...HANDLERS,
  // @ts-expect-error a handler for an event the provider never sends
  sly: { ...HANDLERS.sly, 'invoice.paid': recordOnly },
};

test('every documented event of every provider has an entry, and nothing else does', () => {
  for (const [name, provider] of Object.entries(PROVIDERS)) {
    assert.deepEqual(
      Object.keys(HANDLERS[name as keyof typeof HANDLERS]).sort(),
      [...provider.knownEvents].sort(),
      name,
    );
  }
});

test('lookup per provider: the same event name may mean different things to two providers', () => {
  assert.equal(handlerFor('skylight', 'booking.created').handler, HANDLERS.skylight['booking.created']);
  assert.equal(handlerFor('sly', 'booking.created').name, 'default');
  assert.equal(handlerFor('sly', 'webhook.dlq').handler, HANDLERS.sly['webhook.dlq']);
});
