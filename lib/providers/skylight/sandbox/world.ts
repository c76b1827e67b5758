import type { KnownEvent } from '../protocol';
import { isoMicro, randomAlnum } from './format';

/**
 * A small simulated SkyLight account: contacts that exist before they message, change or disappear,
 * messages and bookings that belong to live contacts, and ids that only grow. `next()` returns the
 * next event in both payload shapes (provider-contract.md §4.1 nested, §4.2 flat).
 */

export type Shape = 'A' | 'B';
export type Failure = 'none' | 'invalid' | 'flaky';

export type WorldEvent = {
  type: KnownEvent;
  at: Date;
  failure: Failure;
  data: Record<Shape, Record<string, unknown>>;
};

type Contact = {
  id: number;
  name: string;
  email: string;
  phone: string;
  type: 'whatsapp' | 'telegram' | 'instagram';
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
};

const FIRST = [
  'Omar',
  'Lina',
  'Sara',
  'Yusuf',
  'Maya',
  'Karim',
  'Noor',
  'Adam',
  'Hana',
  'Ravi',
  'Elena',
  'Tom',
];
const LAST = ['K.', 'Haddad', 'Mansour', 'Silva', 'Okafor', 'Nguyen', 'Rossi', 'Schmidt', 'Ali', 'Park'];
const CHANNELS = ['whatsapp', 'telegram', 'instagram'] as const;
const TAGS = ['vip', 'lead', 'returning', 'wholesale', 'newsletter'];
const INBOUND = [
  'Is the shop open today?',
  'Can I change my appointment to Friday?',
  'Do you deliver to Dubai Marina?',
  'What is the price for a family table?',
  'Thanks, see you tomorrow!',
  'Is there parking nearby?',
];
const OUTBOUND = [
  'Yes, we are open until 10 pm.',
  'Your booking is confirmed.',
  'We deliver there within 45 minutes.',
  'Here is our menu: https://example.test/menu',
];
const BOOKINGS = ['Table for 2', 'Haircut', 'Consultation', 'Table for 6', 'Car service', 'Massage 60 min'];

/** Marks a payload so the downstream sink fails the first `times` notifications that carry it. */
export function flakyMarker(times: number, token: string): string {
  return `[flaky:${times}:${token}]`;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

export class World {
  private contacts = new Map<number, Contact>();
  private nextContact = 1000 + Math.floor(Math.random() * 1000);
  private nextMessage = 50_000 + Math.floor(Math.random() * 10_000);
  private nextBooking = 7000 + Math.floor(Math.random() * 1000);
  /** The last event's time: no two events share a millisecond (see next). */
  private lastAt = 0;

  constructor(private readonly maxContacts = 500) {}

  get contactCount() {
    return this.contacts.size;
  }

  /** The next event at time `at`; `failureShare` of them carry a payload our handlers fail on. */
  next(when: Date, failureShare = 0, only?: KnownEvent): WorldEvent {
    // Two updates of one contact in one millisecond would be the same content, which a receiver
    // deduplicating by fingerprint rightly merges: real events that differ carry different times.
    const at = new Date(Math.max(when.getTime(), this.lastAt + 1));
    this.lastAt = at.getTime();
    const failing = !only && this.contacts.size > 0 && Math.random() < failureShare;
    if (failing) {
      return Math.random() < 0.5 ? this.bookingCreated(at, 'invalid') : this.flaky(at);
    }
    const type = only ?? this.chooseType();
    switch (type) {
      case 'contact.created':
        return this.contactCreated(at);
      case 'contact.updated':
        return this.contactUpdated(at);
      case 'contact.deleted':
        return this.contactDeleted(at);
      case 'message.received':
        return this.message(at, 'inbound', 'none');
      case 'message.sent':
        return this.message(at, 'outbound', 'none');
      case 'booking.created':
        return this.bookingCreated(at, 'none');
    }
  }

  private chooseType(): KnownEvent {
    if (this.contacts.size < 3) return 'contact.created';
    const full = this.contacts.size >= this.maxContacts;
    const weights: [KnownEvent, number][] = [
      ['contact.created', full ? 0 : 14],
      ['contact.updated', 14],
      ['contact.deleted', full ? 20 : 4],
      ['message.received', 36],
      ['message.sent', 20],
      ['booking.created', 12],
    ];
    let r = Math.random() * weights.reduce((sum, [, w]) => sum + w, 0);
    for (const [type, w] of weights) if ((r -= w) < 0) return type;
    return 'message.received';
  }

  /** Contact for the other event types; creates one first when the account is empty. */
  private someContact(at: Date): Contact {
    const all = [...this.contacts.values()];
    return all.length > 0 ? pick(all) : this.addContact(at);
  }

  private addContact(at: Date): Contact {
    const id = this.nextContact++;
    const first = pick(FIRST);
    const channel = pick(CHANNELS);
    const c: Contact = {
      id,
      name: `${first} ${pick(LAST)}`,
      email: `${first.toLowerCase()}.${id}@example.test`,
      phone: `+9715${String(10_000_000 + id).slice(-8)}`,
      type: channel,
      tags: Math.random() < 0.5 ? [pick(TAGS)] : [],
      createdAt: at,
      updatedAt: at,
    };
    this.contacts.set(id, c);
    return c;
  }

  private contactCreated(at: Date): WorldEvent {
    const c = this.addContact(at);
    return {
      type: 'contact.created',
      at,
      failure: 'none',
      data: { A: { contact: nestedContact(c) }, B: flatContact(c) },
    };
  }

  private contactUpdated(at: Date): WorldEvent {
    const c = this.someContact(at);
    c.tags = [...new Set([...c.tags, pick(TAGS)])];
    c.updatedAt = at;
    return {
      type: 'contact.updated',
      at,
      failure: 'none',
      // Version A shows a partial object (C3); version B the whole contact.
      data: {
        A: { contact: { id: c.id, name: c.name, tags: c.tags, updated_at: isoMicro(at) } },
        B: flatContact(c),
      },
    };
  }

  private contactDeleted(at: Date): WorldEvent {
    const c = this.someContact(at);
    this.contacts.delete(c.id);
    const deletedAt = isoMicro(at);
    return {
      type: 'contact.deleted',
      at,
      failure: 'none',
      data: {
        A: { contact: { id: c.id, name: c.name, deleted_at: deletedAt } },
        B: { id: c.id, name: c.name, phone: c.phone, email: c.email, type: c.type, deleted_at: deletedAt },
      },
    };
  }

  private message(at: Date, direction: 'inbound' | 'outbound', failure: Failure, prefix = ''): WorldEvent {
    const c = this.someContact(at);
    const id = this.nextMessage++;
    const content = `${prefix}${pick(direction === 'inbound' ? INBOUND : OUTBOUND)}`;
    const status = direction === 'inbound' ? 'received' : 'sent';
    const ts = isoMicro(at);
    return {
      type: direction === 'inbound' ? 'message.received' : 'message.sent',
      at,
      failure,
      data: {
        A: {
          message: { id, direction, channel: c.type, content, status, sent_at: ts },
          contact: { id: c.id, name: c.name, phone: c.phone, type: c.type },
        },
        B: {
          id,
          contact_id: c.id,
          value: content,
          message_type: 'text',
          message_by: direction === 'inbound' ? 'contact' : 'user',
          status,
          source: c.type,
          header_image: null,
          header_video: null,
          header_document: null,
          header_audio: null,
          campaign_id: null,
          created_at: ts,
        },
      },
    };
  }

  private bookingCreated(at: Date, failure: Failure, prefix = ''): WorldEvent {
    const c = this.someContact(at);
    const id = this.nextBooking++;
    const start = new Date(Math.ceil((at.getTime() + 86_400_000) / 1_800_000) * 1_800_000);
    const booking = {
      id,
      contact_id: c.id,
      booking_type_id: 1 + (id % 4),
      resource_id: null,
      title: `${prefix}${pick(BOOKINGS)}`,
      // Invalid data the handler must reject permanently: a human-typed time, not ISO 8601.
      starts_at: failure === 'invalid' ? 'tomorrow 7pm' : isoMicro(start),
      ends_at: isoMicro(start.getTime() + 3_600_000),
      status: 'confirmed',
      notes: null,
      created_at: isoMicro(at),
      updated_at: isoMicro(at),
    };
    return {
      type: 'booking.created',
      at,
      failure,
      data: { A: { booking, contact: { id: c.id, name: c.name } }, B: booking },
    };
  }

  /**
   * A notifying event whose notification the downstream fails once or twice, then takes: retries
   * recover it. Events that fail for good come from invalid data (permanent) or from the
   * downstream's outage switch (transient, saved by a retry once it ends), never from here.
   */
  private flaky(at: Date): WorldEvent {
    const times = 1 + Math.floor(Math.random() * 2);
    const marker = `${flakyMarker(times, randomAlnum(10))} `;
    return Math.random() < 0.5
      ? this.message(at, 'inbound', 'flaky', marker)
      : this.bookingCreated(at, 'flaky', marker);
  }
}

function nestedContact(c: Contact) {
  return {
    id: c.id,
    name: c.name,
    email: c.email,
    phone: c.phone,
    type: c.type,
    status: 'active',
    blacklisted: false,
    tags: c.tags,
    created_at: isoMicro(c.createdAt),
  };
}

function flatContact(c: Contact) {
  return {
    id: c.id,
    name: c.name,
    email: c.email,
    phone: c.phone,
    type: c.type,
    status: 'active',
    is_blacklist: false,
    source: 'api',
    company: null,
    address: null,
    country_id: 784,
    created_at: isoMicro(c.createdAt),
    updated_at: isoMicro(c.updatedAt),
  };
}
