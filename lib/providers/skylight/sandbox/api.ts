import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { KNOWN_EVENTS } from '../protocol';
import type { SandboxCore } from './core';
import { isoMicro } from './format';
import { BodyError, readJson, sendJson } from './http';
import { DELIVERY_STATUSES, type StoredDelivery, type Webhook } from './store';

/**
 * SkyLight's Webhooks management API (provider-contract.md §5): `{success, data, message?}` envelopes,
 * `meta` pagination, Laravel-style 422 `errors`, 429 with `retry_after`. Authentication and rate
 * limiting happen in the server before a request gets here.
 */

const required = (field: string) => (iss: { input: unknown }) =>
  iss.input === undefined || iss.input === null ? `The ${field} field is required.` : undefined;

const urlField = z
  .string({ error: required('url') })
  .max(2048, 'The url field must not be greater than 2048 characters.')
  .refine(isAllowedUrl, 'The url field must be a valid HTTPS URL.');
const eventsField = z
  .array(z.enum(KNOWN_EVENTS, { error: 'The selected event is invalid.' }), { error: required('events') })
  .min(1, 'The events field must have at least 1 items.');
const nameField = z
  .string({ error: required('name') })
  .trim()
  .min(1, 'The name field is required.')
  .max(255, 'The name field must not be greater than 255 characters.');
const activeField = z.boolean({ error: 'The is active field must be true or false.' });

const createSchema = z.object({
  name: nameField,
  url: urlField,
  events: eventsField,
  is_active: activeField.optional(),
});
const updateSchema = createSchema.partial();

const listQuery = z.object({
  page: z.coerce
    .number()
    .int('The page field must be an integer.')
    .min(1, 'The page field must be at least 1.')
    .default(1),
  per_page: z.coerce
    .number()
    .int('The per page field must be an integer.')
    .min(1, 'The per page field must be at least 1.')
    .max(100, 'The per page field must not be greater than 100.')
    .default(15),
});
const deliveriesQuery = listQuery.extend({
  status: z.enum(DELIVERY_STATUSES, { error: 'The selected status is invalid.' }).optional(),
});

/**
 * The docs require HTTPS; the sandbox also accepts plain HTTP to loopback, where a local app listens.
 */
function isAllowedUrl(value: string): boolean {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

export function webhookJson(w: Webhook, extra: Record<string, unknown> = {}) {
  return {
    id: w.id,
    name: w.name,
    url: w.url,
    events: w.events,
    is_active: w.isActive,
    created_at: isoMicro(w.createdAt),
    updated_at: isoMicro(w.updatedAt),
    ...extra,
  };
}

export function deliveryJson(d: StoredDelivery) {
  return {
    id: d.id,
    webhook_id: d.webhookId,
    event_type: d.eventType,
    delivery_id: d.deliveryId,
    attempt_number: d.attemptNumber,
    response_status_code: d.responseStatusCode,
    response_body: d.responseBody,
    status: d.status,
    next_attempt_at: d.nextAttemptAt ? isoMicro(d.nextAttemptAt) : null,
    // The request body, as providers' delivery logs commonly show it: what a reconciliation needs to
    // link attempts whose delivery_id changes per attempt (C7).
    payload: d.payload,
    created_at: isoMicro(d.createdAt),
    updated_at: isoMicro(d.updatedAt),
  };
}

type Answer = { status: number; body?: unknown };

const ok = (data: unknown, message?: string, status = 200): Answer => ({
  status,
  body: { success: true, data, ...(message ? { message } : {}) },
});
const fail = (status: number, message: string, errors?: Record<string, string[]>): Answer => ({
  status,
  body: { success: false, message, ...(errors ? { errors } : {}) },
});
const notFound = () => fail(404, 'Webhook not found.');

function invalid(err: z.ZodError): Answer {
  const errors: Record<string, string[]> = {};
  for (const issue of err.issues) {
    const key = issue.path.join('.') || 'body';
    (errors[key] ??= []).push(issue.message);
  }
  const first = Object.values(errors)[0]?.[0] ?? 'The given data was invalid.';
  const more = err.issues.length - 1;
  return fail(422, more > 0 ? `${first} (and ${more} more error${more > 1 ? 's' : ''})` : first, errors);
}

const pageMeta = (page: number, perPage: number, total: number) => ({
  current_page: page,
  last_page: Math.max(1, Math.ceil(total / perPage)),
  per_page: perPage,
  total,
});

export async function handleApi(
  core: SandboxCore,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
  headers: Record<string, string>,
) {
  let answer: Answer;
  try {
    answer = await route(core, req, path, query);
  } catch (err) {
    if (!(err instanceof BodyError)) throw err;
    answer = fail(err.status, err.message);
  }
  sendJson(res, answer.status, answer.body, headers);
}

async function route(
  core: SandboxCore,
  req: IncomingMessage,
  path: string,
  query: URLSearchParams,
): Promise<Answer> {
  const method = req.method ?? 'GET';
  const parts = path.split('/').filter(Boolean);
  if (parts[0] !== 'webhooks') return fail(404, 'Not found.');
  if (parts.length === 1) {
    if (method === 'GET') return listWebhooks(core, query);
    if (method === 'POST') return createWebhook(core, await readJson(req));
    return notAllowed(method);
  }
  if (parts.length === 2 && parts[1] === 'events') {
    return method === 'GET' ? ok([...KNOWN_EVENTS]) : notAllowed(method);
  }
  const id = /^[1-9]\d{0,9}$/.test(parts[1]!) ? Number(parts[1]) : null;
  const webhook = id !== null && id <= 2 ** 31 - 1 ? await core.store.getWebhook(id) : null;
  if (!webhook) return notFound();
  if (parts.length === 2) {
    if (method === 'GET') return ok(webhookJson(webhook));
    if (method === 'PUT') return updateWebhook(core, webhook.id, await readJson(req));
    if (method === 'DELETE') {
      await core.deleteWebhook(webhook.id);
      return { status: 204 };
    }
    return notAllowed(method);
  }
  if (parts.length !== 3) return fail(404, 'Not found.');
  switch (`${method} ${parts[2]}`) {
    case 'POST test': {
      const row = await core.sender.sendTest(webhook);
      return ok(deliveryJson(row), 'Test event sent.');
    }
    case 'POST regenerate-secret': {
      const w = await core.regenerateSecret(webhook.id);
      return w
        ? ok(webhookJson(w, { secret: w.secret }), 'Webhook secret regenerated successfully.')
        : notFound();
    }
    case 'GET deliveries':
      return listDeliveries(core, webhook.id, query);
    default:
      return ['test', 'regenerate-secret', 'deliveries'].includes(parts[2]!)
        ? notAllowed(method)
        : fail(404, 'Not found.');
  }
}

function notAllowed(method: string): Answer {
  return fail(405, `The ${method} method is not supported for this route.`);
}

async function listWebhooks(core: SandboxCore, query: URLSearchParams): Promise<Answer> {
  const all = await core.store.listWebhooks();
  if (core.knobs().listShape === 'A') {
    // Version A (C4): every webhook of the account, unpaginated, with delivery_logs_count.
    const counts = await core.store.deliveryCounts();
    return ok(
      all.map((w) => webhookJson(w, { delivery_logs_count: counts.get(w.id) ?? 0 })),
      'Webhooks retrieved successfully.',
    );
  }
  const q = listQuery.safeParse(Object.fromEntries(query));
  if (!q.success) return invalid(q.error);
  const { page, per_page } = q.data;
  const items = all.slice((page - 1) * per_page, page * per_page).map((w) => webhookJson(w));
  return { status: 200, body: { success: true, data: items, meta: pageMeta(page, per_page, all.length) } };
}

async function createWebhook(core: SandboxCore, body: unknown): Promise<Answer> {
  const v = createSchema.safeParse(body ?? {});
  if (!v.success) return invalid(v.error);
  const w = await core.createWebhook({
    name: v.data.name,
    url: v.data.url,
    events: [...new Set(v.data.events)],
    isActive: v.data.is_active,
  });
  return ok(webhookJson(w, { secret: w.secret }), 'Webhook created successfully.', 201);
}

async function updateWebhook(core: SandboxCore, id: number, body: unknown): Promise<Answer> {
  const v = updateSchema.safeParse(body ?? {});
  if (!v.success) return invalid(v.error);
  const { name, url, events, is_active } = v.data;
  const w = await core.updateWebhook(id, {
    ...(name !== undefined ? { name } : {}),
    ...(url !== undefined ? { url } : {}),
    ...(events !== undefined ? { events: [...new Set(events)] } : {}),
    ...(is_active !== undefined ? { isActive: is_active } : {}),
  });
  return w ? ok(webhookJson(w), 'Webhook updated successfully.') : notFound();
}

async function listDeliveries(core: SandboxCore, id: number, query: URLSearchParams): Promise<Answer> {
  const q = deliveriesQuery.safeParse(Object.fromEntries(query));
  if (!q.success) return invalid(q.error);
  const { page, per_page, status } = q.data;
  const { items, total } = await core.store.listDeliveries(id, { status, page, perPage: per_page });
  return {
    status: 200,
    body: { success: true, data: items.map(deliveryJson), meta: pageMeta(page, per_page, total) },
  };
}
