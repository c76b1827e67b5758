import { z } from 'zod';

/**
 * Response shapes of SkyLight's management API (provider-contract.md §5). Loose objects: extra fields
 * are kept, missing required ones fail with the field's path. Types only, no server code, so UI
 * components may import them.
 */

// Each shape is declared once and used twice: as a loose object for what SkyLight sends (unknown
// fields tolerated, kept server-side), and as a plain object for what the browser is sent, which
// drops every field not listed here. A provider that adds `secret` to a GET never reaches the page.

const pageMetaFields = {
  current_page: z.number().int(),
  last_page: z.number().int(),
  per_page: z.number().int(),
  total: z.number().int(),
};
export const pageMetaSchema = z.looseObject(pageMetaFields);
export type PageMeta = z.infer<typeof pageMetaSchema>;

const webhookFields = {
  id: z.number().int(),
  name: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  is_active: z.boolean(),
  // The create response example has no timestamps (§5.7 #2).
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  delivery_logs_count: z.number().int().optional(),
};
export const providerWebhookSchema = z.looseObject(webhookFields);
export type ProviderWebhook = z.infer<typeof providerWebhookSchema>;

/** A provider webhook as the browser gets it: the allow-listed fields only. */
export const webhookViewSchema = z.object(webhookFields);
export type WebhookView = z.infer<typeof webhookViewSchema>;

export const webhookWithSecretSchema = providerWebhookSchema.extend({ secret: z.string().min(1) });
export type ProviderWebhookWithSecret = z.infer<typeof webhookWithSecretSchema>;

/**
 * The regenerate-secret answer's shape is not documented (§5.7 #8), only that it holds the new
 * secret; the provider signs with it already, so the secret is taken wherever it is (`data.secret`,
 * or `secret`) and nothing else is required of the answer.
 */
export const regeneratedSecretSchema = z.union([
  z.looseObject({ data: z.looseObject({ secret: z.string().min(1) }) }).transform((b) => b.data.secret),
  z.looseObject({ secret: z.string().min(1) }).transform((b) => b.secret),
]);

/** Delivery-log items are undocumented (§5.7 #7): only what we display is required. */
const deliveryFields = {
  id: z.number().int(),
  webhook_id: z.number().int().optional(),
  event_type: z.string(),
  delivery_id: z.string().nullish(),
  attempt_number: z.number().int().nullish(),
  response_status_code: z.number().int().nullish(),
  response_body: z.string().nullish(),
  status: z.string(),
  created_at: z.string(),
};
export const providerDeliverySchema = z.looseObject(deliveryFields);
export type ProviderDelivery = z.infer<typeof providerDeliverySchema>;

/** A provider delivery-log page as the browser gets it: allow-listed fields of rows and paging. */
export const deliveryPageViewSchema = z.object({
  data: z.array(z.object(deliveryFields)),
  meta: z.object(pageMetaFields).nullable(),
});
export type DeliveryPageView = z.infer<typeof deliveryPageViewSchema>;
export type ProviderDeliveryView = DeliveryPageView['data'][number];

/** `GET /webhooks/events` is undocumented: names, objects with `event`/`name`, or a name → label map. */
export const eventListSchema = z
  .union([
    z.array(
      z.union([
        z.string(),
        z.looseObject({ event: z.string() }).transform((e) => e.event),
        z.looseObject({ name: z.string() }).transform((e) => e.name),
      ]),
    ),
    z.record(z.string(), z.unknown()).transform((m) => Object.keys(m)),
  ])
  .transform((names) => [...new Set(names)]);

/** `POST /webhooks/{id}/test` is undocumented: whatever the provider returns, as an object. */
export const testResultSchema = z.looseObject({}).nullish();
export type ProviderTestResult = { message: string | null; data: Record<string, unknown> | null };

export const DELIVERY_STATUS_FILTERS = ['pending', 'delivered', 'failed'] as const;
export type DeliveryQuery = {
  status?: (typeof DELIVERY_STATUS_FILTERS)[number];
  page?: number;
  per_page?: number;
};
export type DeliveryPage = { data: ProviderDelivery[]; meta: PageMeta | null };

export type WebhookInput = { name: string; url: string; events: string[] };
export type WebhookPatch = Partial<WebhookInput> & { is_active?: boolean };

/** Every success body: `{success, data, message?, meta?}`. */
export function envelopeOf<T extends z.ZodType>(data: T) {
  return z.looseObject({
    success: z.literal(true, { error: 'expected true' }).optional(),
    data,
    message: z.string().nullish(),
    meta: pageMetaSchema.optional(),
  });
}

export const errorBodySchema = z.looseObject({
  message: z.string().optional(),
  errors: z.record(z.string(), z.union([z.array(z.string()), z.string()])).optional(),
  retry_after: z.coerce.number().optional(),
});
