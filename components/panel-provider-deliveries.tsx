'use client';

import { useQuery } from '@tanstack/react-query';
import { CATALOG, type CatalogName } from '@/lib/providers/catalog';
import { type ProviderDeliveryFilters, providerDeliveriesOptions } from '@/lib/queries/webhooks';
import { BadgeStatus } from './badge-status';
import { StateEmpty } from './state-empty';
import { StateError } from './state-error';
import { StateLoading } from './state-loading';
import { TextTime } from './text-time';
import { TextTimeZone } from './text-time-zone';

/** The provider's own delivery log for one webhook (provider-side view: what they tried to send us). */
export function PanelProviderDeliveries({
  provider,
  webhookId,
  filters,
  onChange,
}: {
  provider: CatalogName;
  webhookId: number;
  filters: ProviderDeliveryFilters;
  onChange: (f: Partial<ProviderDeliveryFilters>) => void;
}) {
  // The previous page stays while the next loads (paging, a status), never another webhook's rows
  // under this webhook's heading.
  const q = useQuery({
    ...providerDeliveriesOptions(webhookId, filters),
    placeholderData: (previous, previousQuery) =>
      previousQuery?.queryKey[2] === webhookId ? previous : undefined,
  });
  const meta = q.data?.meta;
  const rows = q.data?.data ?? [];
  return (
    <section className="panel" aria-label="Provider delivery log" style={{ marginTop: '1rem' }}>
      <div className="section-head" style={{ marginTop: 0 }}>
        <h2>
          {CATALOG[provider].label} delivery log · webhook #{webhookId}
        </h2>
        <label className="field">
          Status
          <select
            aria-label="Status"
            value={filters.status ?? ''}
            onChange={(e) =>
              onChange({
                status: (e.target.value || undefined) as ProviderDeliveryFilters['status'],
                page: 1,
              })
            }
          >
            <option value="">All statuses</option>
            {CATALOG[provider].deliveryStatuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      {q.isPending ? (
        <StateLoading label="Loading provider deliveries" rows={4} />
      ) : q.isError ? (
        <StateError error={q.error} onRetry={() => q.refetch()} />
      ) : rows.length === 0 ? (
        <StateEmpty title={`No deliveries in ${CATALOG[provider].label}'s log`} />
      ) : (
        <div className="table-wrap">
          <table aria-label="Provider deliveries">
            <thead>
              <tr>
                <th scope="col">
                  Created (<TextTimeZone />)
                </th>
                <th scope="col">Event</th>
                <th scope="col">Delivery id</th>
                <th scope="col">Attempt</th>
                <th scope="col">Response</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id}>
                  <td className="time">
                    <TextTime iso={d.created_at} />
                  </td>
                  <td>{d.event_type}</td>
                  <td className="mono">{shown(d.delivery_id)}</td>
                  <td className="num">{shown(d.attempt_number)}</td>
                  <td className="num">{shown(d.response_status_code)}</td>
                  <td>
                    <BadgeStatus value={d.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {meta && meta.last_page > 1 && (
        <div className="table-foot">
          <button
            type="button"
            disabled={filters.page <= 1}
            onClick={() => onChange({ page: filters.page - 1 })}
          >
            Previous
          </button>
          <span className="muted">
            Page {meta.current_page} of {meta.last_page} · {meta.total} deliveries
          </span>
          <button
            type="button"
            disabled={filters.page >= meta.last_page}
            onClick={() => onChange({ page: filters.page + 1 })}
          >
            Next
          </button>
        </div>
      )}
    </section>
  );
}

/** Optional fields of a provider's row: shown when the provider sends them. */
function shown(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '—';
}
