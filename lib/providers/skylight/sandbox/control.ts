import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { KNOWN_EVENTS } from '../protocol';
import type { SandboxCore } from './core';
import { BodyError, readJson, sendJson } from './http';
import { knobsPatchSchema } from './knobs';
import { LOSS_KINDS } from './sender';

/**
 * The control API under `/_sandbox/` (not part of SkyLight): knobs, downstream outage, sending on
 * demand, counters. Answers `{data}` or `{error: {message, issues?}}`.
 */

const sendSchema = z.object({
  count: z.number().int().min(1).max(10_000).default(1),
  event: z.enum(KNOWN_EVENTS).optional(),
});
const outageSchema = z.object({ on: z.boolean() });
const lossesSchema = z.object({
  count: z.number().int().min(1).max(1000).default(1),
  kind: z.enum(LOSS_KINDS),
  attempts: z.number().int().min(1).optional(),
  event: z.enum(KNOWN_EVENTS).optional(),
});

export async function handleControl(
  core: SandboxCore,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
) {
  const route = `${req.method} ${path.replace(/\/+$/, '')}`;
  try {
    switch (route) {
      case 'GET /knobs':
        return sendJson(res, 200, { data: core.knobs() });
      case 'PUT /knobs':
      case 'PATCH /knobs': {
        const patch = knobsPatchSchema.safeParse(await readJson(req));
        if (!patch.success) return invalid(res, patch.error);
        return sendJson(res, 200, { data: core.setKnobs(patch.data) });
      }
      case 'GET /stats':
        return sendJson(res, 200, { data: await core.stats() });
      case 'POST /send': {
        const body = sendSchema.safeParse(await readJson(req));
        if (!body.success) return invalid(res, body.error);
        const deliveries = await core.sender.emit(body.data.count, body.data.event);
        return sendJson(res, 202, { data: { events: body.data.count, deliveries } });
      }
      case 'POST /losses': {
        const body = lossesSchema.safeParse(await readJson(req));
        if (!body.success) return invalid(res, body.error);
        const { count, kind, attempts, event } = body.data;
        const planted = await core.sender.emitLosses(count, kind, { attempts, only: event });
        return sendJson(res, 202, { data: planted });
      }
      case 'GET /downstream':
        return sendJson(res, 200, {
          data: { ...core.downstream.stats(), recent: core.downstream.notifications() },
        });
      case 'POST /downstream/outage': {
        const body = outageSchema.safeParse(await readJson(req));
        if (!body.success) return invalid(res, body.error);
        core.downstream.outage = body.data.on;
        return sendJson(res, 200, { data: core.downstream.stats() });
      }
      default:
        return sendJson(res, 404, { error: { message: `No control route ${route}` } });
    }
  } catch (err) {
    if (!(err instanceof BodyError)) throw err;
    return sendJson(res, err.status, { error: { message: err.message } });
  }
}

function invalid(res: ServerResponse, err: z.ZodError) {
  const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  return sendJson(res, 422, { error: { message: 'Invalid request', issues } });
}
