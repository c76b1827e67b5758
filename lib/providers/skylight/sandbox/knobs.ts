import { z } from 'zod';
import { KNOWN_EVENTS } from '../protocol';

/**
 * Everything the sandbox lets you turn. Where the provider's docs contradict themselves
 * (provider-contract.md §6) the behaviour is a switch, so our receiver can be tested against each side.
 */
export const knobsSchema = z.object({
  /** Events per second streamed to the subscribed webhooks; 0 sends only on demand. */
  rate: z.number().min(0).max(5000),
  /** Events emitted together; bursts come every burst/rate seconds, so the average rate holds. */
  burst: z.number().int().min(1).max(10_000),
  /** Share of deliveries sent a second time right after the first (network trouble, at least once). */
  duplicates: z.number().min(0).max(1),
  /** C7: `stable` keeps delivery_id and the bytes across retries; `per-attempt` mints a new id each time. */
  idMode: z.enum(['stable', 'per-attempt']),
  /** C1/C2: `A` nests data with an ISO timestamp; `B` is flat with Unix seconds. */
  shape: z.enum(['A', 'B']),
  /** C4: `A` lists webhooks unpaginated with delivery_logs_count; `B` paginates with `meta`. */
  listShape: z.enum(['A', 'B']),
  /** C5: 4 attempts (3 retries at 2/10/30 min) or 3 attempts (retries at 2/10 min). */
  maxAttempts: z.union([z.literal(3), z.literal(4)]),
  /** Share of events whose payload makes our handlers fail (half invalid data, half flaky downstream). */
  failures: z.number().min(0).max(1),
  /** Divides the retry schedule: 60 turns 2/10/30 minutes into 2/10/30 seconds. */
  timeScale: z.number().positive().max(100_000),
  /** Added to the sandbox clock for event times and X-Skylight-Timestamp. */
  skewMs: z.number().int().min(-86_400_000).max(86_400_000),
  /** Signs with a secret the receiver does not know: a secret rotated on one side only. */
  wrongSecret: z.boolean(),
  /** Event types the account stops producing (a filter changed on the provider's side). */
  mutedEvents: z.array(z.enum(KNOWN_EVENTS)).max(KNOWN_EVENTS.length),
});

export type Knobs = z.infer<typeof knobsSchema>;

export const DEFAULT_KNOBS: Knobs = {
  rate: 0,
  burst: 1,
  duplicates: 0,
  idMode: 'stable',
  shape: 'A',
  listShape: 'A',
  maxAttempts: 4,
  failures: 0,
  timeScale: 1,
  skewMs: 0,
  wrongSecret: false,
  mutedEvents: [],
};

export const knobsPatchSchema = knobsSchema.partial().strict();
