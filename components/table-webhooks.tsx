import type { ProviderWebhook } from '@/lib/queries/types';

export function TableWebhooks({
  webhooks,
  selected,
  busyId,
  locked,
  onToggle,
  onOpen,
}: {
  webhooks: ProviderWebhook[];
  selected: number | null;
  busyId: number | null;
  /** Why this person may not toggle webhooks (their role), if so. */
  locked?: string;
  onToggle: (w: ProviderWebhook) => void;
  onOpen: (id: number) => void;
}) {
  return (
    // `cards`: below 600 px each webhook is a stacked card, so its switch is on screen at 390 px.
    <table aria-label="Webhooks" className="cards">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">URL</th>
          <th scope="col">Events</th>
          <th scope="col">Active</th>
          <th scope="col">
            <span className="visually-hidden">Deliveries</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {webhooks.map((w) => (
          <tr key={w.id} aria-selected={selected === w.id}>
            <td>
              <strong>{w.name}</strong>
              <div className="muted" style={{ fontSize: '0.75rem' }}>
                #{w.id}
              </div>
            </td>
            <td className="mono" data-label="URL">
              {w.url}
            </td>
            <td style={{ fontSize: '0.8rem' }} data-label="Events">
              {w.events.join(', ')}
            </td>
            <td data-label="Active">
              <div className="row">
                <button
                  type="button"
                  role="switch"
                  className="switch"
                  aria-checked={w.is_active}
                  aria-label={`Active: ${w.name}`}
                  disabled={busyId === w.id || !!locked}
                  title={locked}
                  onClick={() => onToggle(w)}
                />
                <span className="muted" style={{ fontSize: '0.8rem' }}>
                  {w.is_active ? 'on' : 'off'}
                </span>
              </div>
            </td>
            <td>
              <button
                type="button"
                className="small"
                onClick={() => onOpen(w.id)}
                aria-label={`Delivery log of ${w.name}`}
              >
                Delivery log
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
