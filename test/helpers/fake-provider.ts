import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

// A real HTTP server standing in for SkyLight's management API (provider-contract.md §5.7), for the
// routes that proxy it. Like some real providers, it adds fields the contract does not list, among
// them the webhook's signing secret on every GET: nothing of that may reach the browser.

export const PROVIDER_KEY = 'sk_test_fake_provider_key';
export const LEAKED_SECRET = 'whsec_LEAKED_0123456789abcdefLEAKED';
export const LEAKED_FIELD_VALUE = 'internal-routing-LEAKED';

export type FakeWebhook = { id: number; name: string; url: string; events: string[]; is_active: boolean };

export type FakeProvider = {
  url: string;
  webhooks: FakeWebhook[];
  /** Requests seen, as "METHOD /path". */
  seen: string[];
  close(): Promise<void>;
};

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

/** The provider's full object: what the contract lists, plus a secret and an unlisted field. */
function leaky(w: FakeWebhook) {
  return {
    ...w,
    created_at: '2026-11-01T10:00:00Z',
    updated_at: '2026-11-02T10:00:00Z',
    delivery_logs_count: 2,
    secret: LEAKED_SECRET,
    routing: { shard: LEAKED_FIELD_VALUE },
  };
}

export async function startFakeProvider(webhooks: FakeWebhook[]): Promise<FakeProvider> {
  const seen: string[] = [];
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push(`${req.method} ${path}`);
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    };
    if (req.headers['x-api-key'] !== PROVIDER_KEY) return send(401, { message: 'Unauthenticated.' });
    const m = /^\/webhooks(?:\/(\d+))?(\/deliveries)?$/.exec(path);
    const hook = m?.[1] ? webhooks.find((w) => w.id === Number(m[1])) : undefined;
    if (!m || (m[1] && !hook)) return send(404, { message: 'Webhook not found.' });
    if (!hook && req.method === 'GET') {
      return send(200, { success: true, data: webhooks.map(leaky) });
    }
    if (hook && m[2] && req.method === 'GET') {
      const row = (id: number, status: string) => ({
        id,
        webhook_id: hook.id,
        event_type: 'contact.created',
        delivery_id: `dlv-fake-${id}`,
        attempt_number: 1,
        response_status_code: status === 'delivered' ? 200 : 500,
        response_body: '{"received":true}',
        status,
        created_at: '2026-11-02T10:00:00Z',
        payload: { secret: LEAKED_SECRET },
        request_headers: { 'x-skylight-signature': `sha256=${LEAKED_FIELD_VALUE}` },
      });
      return send(200, {
        success: true,
        data: [row(501, 'delivered'), row(502, 'failed')],
        meta: { current_page: 1, last_page: 1, per_page: 25, total: 2, cursor_secret: LEAKED_FIELD_VALUE },
      });
    }
    if (hook && !m[2] && req.method === 'GET') return send(200, { success: true, data: leaky(hook) });
    if (hook && !m[2] && req.method === 'PUT') {
      const patch = (await body(req)) as Partial<FakeWebhook>;
      if (typeof patch.is_active === 'boolean') hook.is_active = patch.is_active;
      return send(200, { success: true, data: leaky(hook), message: 'Webhook updated.' });
    }
    return send(405, { message: 'Method not allowed.' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    webhooks,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
