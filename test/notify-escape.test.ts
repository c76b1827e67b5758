import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

// Notifications and operator alerts carry text from deliveries (a contact's message, a name, a
// booking title, an error). Posted unescaped to a Slack-compatible webhook, `<!channel>` pings
// everyone and `<https://evil.test|x>` renders a disguised link. A real HTTP sink stands in for Slack.

type Posted = { text: string; [k: string]: unknown };
const posted: Posted[] = [];
const sink = createServer(async (req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  posted.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Posted);
  res.writeHead(200).end('ok');
});

let url: string;
// Loaded after NOTIFY_WEBHOOK_URL is set: lib/env.ts reads the environment once, at import.
let handlerFor: typeof import('@/lib/worker/handlers/index').handlerFor;

before(async () => {
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/notify`;
  process.env.NOTIFY_WEBHOOK_URL = url;
  ({ handlerFor } = await import('@/lib/worker/handlers/index'));
});
after(() => sink.close());

const HOSTILE = '<!channel> pay here: <https://evil.test|your bank> & <@U024BE7LH> </>';
const ESCAPED =
  '&lt;!channel&gt; pay here: &lt;https://evil.test|your bank&gt; &amp; &lt;@U024BE7LH&gt; &lt;/&gt;';

async function notifyFor(eventType: string, data: Record<string, unknown>) {
  const { handler } = handlerFor('skylight', eventType);
  const event = {
    id: 1,
    source: 'skylightchat',
    deliveryId: 'dlv-escape-1',
    eventType,
    data,
    providerTs: null,
  };
  const before = posted.length;
  await handler.notify!(handler.parse(data), event, { notifyUrl: url });
  assert.equal(posted.length, before + 1);
  return posted[before]!;
}

/** Nothing Slack would read as markup is left: no `<`, no `>`, every `&` starts an entity. */
function assertInert(text: string) {
  assert.doesNotMatch(text, /[<>]/, text);
  assert.doesNotMatch(text, /&(?!amp;|lt;|gt;)/, text);
}

describe('notification text is escaped at the Slack-compatible sink', () => {
  test('message.received: the message and the contact name arrive escaped, our own text unchanged', async () => {
    const got = await notifyFor('message.received', {
      message: { id: 9001, content: HOSTILE, channel: 'whatsapp' },
      contact: { id: 7, name: '<!here|Alice> & co' },
    });
    assertInert(got.text);
    assert.equal(got.text, `New whatsapp message from &lt;!here|Alice&gt; &amp; co: ${ESCAPED}`);
    assert.equal(got.event, 'message.received');
  });

  test('booking.created: the title arrives escaped', async () => {
    const got = await notifyFor('booking.created', { booking: { id: 42, title: HOSTILE } });
    assertInert(got.text);
    assert.equal(got.text, `New booking: ${ESCAPED}`);
  });

  test('text that needs no escaping is posted as written', async () => {
    const got = await notifyFor('booking.created', {
      booking: { id: 43, title: 'Call with Ana: *urgent* :tada:', starts_at: '2026-12-01T10:00:00Z' },
    });
    assert.equal(got.text, 'New booking: Call with Ana: *urgent* :tada: at 2026-12-01T10:00:00Z');
  });

  test("a provider notice's alert message arrives escaped (what the provider said is its text)", async () => {
    const { transitionText } = await import('@/lib/alerts/summaries');
    const at = new Date('2026-12-01T00:00:00Z');
    const text = transitionText('opened', {
      id: 5,
      rule: 'provider_notice',
      subject: 'sly',
      severity: 'critical',
      state: 'open',
      summary: `sly: 1 provider notice(s) in 60 min; latest: ${HOSTILE}`,
      detail: { deadline_at: null, lost: false },
      opened_at: at,
      last_seen_at: at,
      acknowledged_at: null,
      acknowledged_by: null,
      resolved_at: null,
    });
    assertInert(text);
    assert.equal(
      text,
      `:rotating_light: [critical] Provider notice (sly) opened: sly: 1 provider notice(s) in 60 min; latest: ${ESCAPED}.`,
    );
  });
});
