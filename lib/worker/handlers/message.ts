import { z } from 'zod';
import { messages } from '@/db/schema';
import { postNotification, slackText } from '@/lib/notify';
import { dbId, defineHandler, entity, exactJsonb, providerId } from './types';

const text = z.string().max(100_000).nullish();
// Version A nests {message, contact}; version B is flat with contact_id, value and source.
const schema = z.looseObject({
  id: providerId,
  contact_id: providerId.nullish(),
  direction: text,
  channel: text,
  source: text,
  content: text,
  value: text,
  status: text,
  message_by: text,
});

function parse(data: Record<string, unknown>) {
  const m = schema.parse(entity(data, 'message'));
  const contact = entity(data, 'contact');
  const nestedId = contact !== data ? providerId.safeParse(contact.id) : null;
  const contactId = m.contact_id ?? (nestedId?.success ? nestedId.data : null);
  return {
    id: m.id,
    contactId,
    contactName: contact !== data && typeof contact.name === 'string' ? contact.name : null,
    direction: m.direction ?? (m.message_by === 'contact' ? 'inbound' : m.message_by ? 'outbound' : null),
    channel: m.channel ?? m.source ?? null,
    content: m.content ?? m.value ?? null,
    status: m.status ?? null,
    raw: m,
  };
}

/** message.received and message.sent: insert once by the provider's message id; notify on inbound. */
export const messageHandler = defineHandler({
  parse,
  key: (m) => `message:${m.id}`,
  notify: async (m, event, ctx) => {
    if (event.eventType !== 'message.received' || !ctx.notifyUrl) return;
    const who = m.contactName ?? (m.contactId ? `contact ${m.contactId}` : 'a contact');
    await postNotification(
      ctx.notifyUrl,
      slackText`New ${m.channel ?? ''} message from ${who}: ${(m.content ?? '').slice(0, 200)}`,
      {
        event: event.eventType,
        delivery_id: event.deliveryId,
      },
    );
  },
  apply: async (tx, m, event) => {
    await tx
      .insert(messages)
      .values({
        source: event.source,
        id: dbId(m.id),
        contactId: m.contactId === null ? null : dbId(m.contactId),
        direction: m.direction,
        channel: m.channel,
        content: m.content,
        status: m.status,
        data: exactJsonb(m.raw),
        sourceEventId: event.id,
      })
      .onConflictDoNothing({ target: [messages.source, messages.id] });
    return 'applied';
  },
});
