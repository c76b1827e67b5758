import { formatCount } from '@/lib/format';
import type { Summary } from '@/lib/queries/types';

/** Refused signatures in the range by their most likely cause, so the fix is obvious at a glance. */
export function PanelRejectionCauses({ causes }: { causes: Summary['rejection_causes'] }) {
  if (causes.total === 0) return null;
  const max = Math.max(...causes.causes.map((c) => c.count));
  return (
    <section className="panel" aria-labelledby="rejection-causes-title" style={{ marginBottom: '1rem' }}>
      <h2 id="rejection-causes-title">Why signatures were refused</h2>
      <p className="muted" style={{ marginTop: 0 }}>
        {formatCount(causes.total)} refused signatures in this range, by most likely cause. Open a refused
        delivery for the detail.
      </p>
      <ul aria-label="Rejection causes" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {causes.causes.map((c) => (
          <li key={c.cause} className="row" style={{ gap: '0.5rem', alignItems: 'center' }}>
            <span style={{ minWidth: '16rem' }}>{c.label}</span>
            <span
              aria-hidden
              style={{
                display: 'inline-block',
                height: '0.6rem',
                width: `${Math.max(2, (100 * c.count) / max) * 0.2}rem`,
                background: 'var(--bad, #c0392b)',
                borderRadius: 2,
              }}
            />
            <span className="mono">{formatCount(c.count)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
