import { patternSignals } from '@/lib/metrics/pattern-health';
import type { Summary } from '@/lib/queries/types';

/** States plainly whether the signals to move to queue-backed workers have appeared. */
export function PanelPatternHealth({ summary }: { summary: Summary }) {
  const signals = patternSignals({
    ackP95: summary.ack_ms.p95,
    handlerP95: summary.handler_ms.p95,
    oldestPendingMs: summary.oldest_pending_age_ms,
    queueDepth: summary.queue_depth,
  });
  const worst = signals.some((s) => s.level === 'bad') ? 'bad' : signals.length ? 'warn' : 'ok';
  return (
    <section className="alert" data-tone={worst} aria-label="Pattern health">
      <h2 style={{ marginBottom: '0.35rem' }}>Pattern health</h2>
      {signals.length === 0 ? (
        <p style={{ margin: 0 }}>
          The inline pattern is comfortable: ack p95 is well under 1 s, handlers are fast and the queue
          drains. No need for queue-backed workers yet.
        </p>
      ) : (
        <>
          <p style={{ margin: '0 0 0.35rem' }}>
            <strong>Time to consider queue-backed workers.</strong>
          </p>
          <ul style={{ margin: 0, paddingLeft: '1.2rem' }}>
            {signals.map((s) => (
              <li key={s.id}>{s.text}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
