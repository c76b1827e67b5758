// An event's processing history in the order it happened: its attempts (numbered across manual
// retries) interleaved with each dead-lettering, manual retry and discard. Shared by the delivery
// timeline and the dead letter panel.

import { formatMs } from './format';

export type TimelineAttempt = {
  id: number;
  attempt: number;
  started_at: string;
  duration_ms: number;
  result: string;
  error: string | null;
};
export type TimelineChange = {
  id: number;
  at: string;
  kind: 'dead_lettered' | 'retried' | 'discarded';
  actor: string | null;
  detail: string | null;
};
export type TimelineStep = {
  key: string;
  label: string;
  at: string;
  detail?: string;
  tone?: 'ok' | 'bad' | 'warn';
};

function changeStep(c: TimelineChange): TimelineStep {
  const key = `h${c.id}`;
  if (c.kind === 'dead_lettered') {
    return { key, label: 'Dead-lettered', at: c.at, detail: c.detail ?? undefined, tone: 'bad' };
  }
  const how =
    c.kind === 'retried' ? (c.detail === 'bulk retry' ? 'Bulk retry' : 'Retried by hand') : 'Discarded';
  return {
    key,
    label: `${how}${c.actor ? ` by ${c.actor}` : ''}`,
    at: c.at,
    detail: c.kind === 'retried' ? 'back to the queue with a fresh set of automatic attempts' : undefined,
    tone: c.kind === 'retried' ? 'warn' : undefined,
  };
}

/** Attempts and changes merged by time; on a tie the attempt comes first (it caused the change). */
export function eventTimeline(attempts: TimelineAttempt[], changes: TimelineChange[]): TimelineStep[] {
  const steps: Array<TimelineStep & { order: number }> = [
    ...attempts.map((a) => ({
      key: `a${a.id}`,
      label: `Attempt ${a.attempt}: ${a.result}`,
      at: a.started_at,
      detail: `${formatMs(a.duration_ms)}${a.error ? ` · ${a.error}` : ''}`,
      tone:
        a.result === 'success'
          ? ('ok' as const)
          : a.result === 'permanent'
            ? ('bad' as const)
            : ('warn' as const),
      order: 0,
    })),
    ...changes.map((c) => ({ ...changeStep(c), order: 1 })),
  ];
  steps.sort((x, y) => Date.parse(x.at) - Date.parse(y.at) || x.order - y.order);
  return steps.map(({ order: _, ...s }) => s);
}
