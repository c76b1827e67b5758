import { formatMs, formatTime } from '@/lib/format';
import type { DeliveryDetail } from '@/lib/queries/types';

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
  for (const a of d.attempts) {
    out.push({
      key: `a${a.id}`,
      label: `Attempt ${a.attempt}: ${a.result}`,
      at: a.started_at,
      detail: `${formatMs(a.duration_ms)}${a.error ? ` · ${a.error}` : ''}`,
      tone: a.result === 'success' ? 'ok' : a.result === 'permanent' ? 'bad' : 'warn',
    });
  }
  const e = d.event;
  if (e?.processed_at) out.push({ key: 'done', label: 'Processed', at: e.processed_at, tone: 'ok' });
  else if (e?.status === 'dead')
    out.push({
      key: 'dead',
      label: 'Dead-lettered',
      at: e.dead_at,
      detail: e.last_error ?? undefined,
      tone: 'bad',
    });
  else if (e?.status === 'discarded') out.push({ key: 'discarded', label: 'Discarded', at: e.discarded_at });
  else if (e) out.push({ key: 'next', label: `${e.status}: next attempt`, at: e.next_attempt_at });
  return out;
}

/** received → acked → attempts → processed / dead. */
export function TimelineDelivery({ delivery }: { delivery: DeliveryDetail }) {
  return (
    <ol className="timeline" aria-label="Timeline">
      {steps(delivery).map((s) => (
        <li key={s.key} data-tone={s.tone}>
          <div>
            <strong>{s.label}</strong>
          </div>
          {s.at && <div className="timeline-time">{formatTime(s.at)}</div>}
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
