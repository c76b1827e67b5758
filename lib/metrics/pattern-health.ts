/**
 * When the inline pattern (ack after one insert, worker in the web process) stops being enough.
 * DESIGN.md's "outgrow" signals: acks approaching the 1 s budget, handlers slow enough to hold
 * worker slots, and a queue that no longer drains.
 */
export type Signal = { id: string; level: 'ok' | 'warn' | 'bad'; text: string };

export const ACK_P95_WARN_MS = 800;
export const ACK_P95_BAD_MS = 1000;
export const HANDLER_P95_WARN_MS = 300;
export const HANDLER_P95_BAD_MS = 1000;
export const OLDEST_PENDING_WARN_MS = 60_000;

type Inputs = {
  ackP95: number | null;
  handlerP95: number | null;
  oldestPendingMs: number | null;
  queueDepth: number;
};

export function patternSignals(i: Inputs): Signal[] {
  const out: Signal[] = [];
  if (i.ackP95 !== null && i.ackP95 >= ACK_P95_WARN_MS) {
    out.push({
      id: 'ack',
      level: i.ackP95 >= ACK_P95_BAD_MS ? 'bad' : 'warn',
      text: `Ack p95 is ${Math.round(i.ackP95)} ms, near or over the 1 s budget: the database write is the bottleneck. Move to Postgres with more connections, or put a queue in front of the receiver.`,
    });
  }
  if (i.handlerP95 !== null && i.handlerP95 >= HANDLER_P95_WARN_MS) {
    out.push({
      id: 'handler',
      level: i.handlerP95 >= HANDLER_P95_BAD_MS ? 'bad' : 'warn',
      text: `Handler p95 is ${Math.round(i.handlerP95)} ms: slow handlers share the web process. Run workers separately (WORKER_INLINE=false and npm run worker) or raise WORKER_CONCURRENCY.`,
    });
  }
  if (i.oldestPendingMs !== null && i.oldestPendingMs >= OLDEST_PENDING_WARN_MS) {
    out.push({
      id: 'backlog',
      level: 'warn',
      text: `${i.queueDepth} events are waiting, the oldest for ${Math.round(i.oldestPendingMs / 1000)} s: workers are not keeping up. Add worker processes.`,
    });
  }
  return out;
}
