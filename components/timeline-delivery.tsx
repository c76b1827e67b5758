import { eventTimeline } from '@/lib/event-timeline';
import { formatMs } from '@/lib/format';
import type { DeliveryDetail } from '@/lib/queries/types';
import { TextTime } from './text-time';

type Step = { key: string; label: string; at: string | null; detail?: string; tone?: 'ok' | 'bad' | 'warn' };

function steps(d: DeliveryDetail): Step[] {
  const acked = new Date(new Date(d.received_at).getTime() + d.ack_ms).toISOString();
  const out: Step[] = [
    { key: 'received', label: 'Received', at: d.received_at, detail: `${d.body_bytes} bytes` },
    {
      key: 'acked',
      label: `Answered ${d.http_status}`,
      at: acked,
      detail: `${d.outcome}${d.reason ? ` (${d.reason})` : ''} after ${formatMs(d.ack_ms)}`,
      tone: d.http_status < 300 ? 'ok' : 'bad',
    },
  ];
  if (d.outcome === 'duplicate' && d.event) {
    out.push({
      key: 'dup',
      label: `Duplicate of event ${d.event.id}`,
      at: null,
      detail: 'not processed again',
    });
  }
  const history = eventTimeline(d.attempts, d.history);
  out.push(...history);
  const e = d.event;
  if (e && e.interruptions > 0) {
    out.push({
      key: 'interrupted',
      label: `Interrupted ${e.interruptions}×`,
      at: null,
      detail: 'a worker stopped (crash or lease expiry) before finishing it; not counted as an attempt',
      tone: 'warn',
    });
  }
  const last = history.at(-1)?.key.startsWith('h') ? history.at(-1)?.label : undefined;
  if (e?.processed_at) out.push({ key: 'done', label: 'Processed', at: e.processed_at, tone: 'ok' });
  else if (e?.status === 'dead') {
    // Dead letters from before the history table have no dead-lettered step of their own.
    if (last !== 'Dead-lettered') {
      out.push({
        key: 'dead',
        label: 'Dead-lettered',
        at: e.dead_at,
        detail: e.last_error ?? undefined,
        tone: 'bad',
      });
    }
  } else if (e?.status === 'discarded') {
    if (!last?.startsWith('Discarded'))
      out.push({ key: 'discarded', label: 'Discarded', at: e.discarded_at });
  } else if (e) out.push({ key: 'next', label: `${e.status}: next attempt`, at: e.next_attempt_at });
  return out;
}

/** received → acked → attempts, dead-letterings and manual retries in order → processed / dead. */
export function TimelineDelivery({ delivery }: { delivery: DeliveryDetail }) {
  return (
    <ol className="timeline" aria-label="Timeline">
      {steps(delivery).map((s) => (
        <li key={s.key} data-tone={s.tone}>
          <div>
            <strong>{s.label}</strong>
          </div>
          {s.at && (
            <div className="timeline-time">
              <TextTime iso={s.at} />
            </div>
          )}
          {s.detail && (
            <div className="muted" style={{ fontSize: '0.85rem' }}>
              {s.detail}
            </div>
          )}
        </li>
      ))}
    </ol>
  );
}
