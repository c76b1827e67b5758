'use client';

import { useInfiniteQuery } from '@tanstack/react-query';
import { useQueryStates } from 'nuqs';
import { ButtonEnqueueMatching } from '@/components/button-enqueue-matching';
import { ButtonLoadMore } from '@/components/button-load-more';
import { FormContentSearch } from '@/components/form-content-search';
import { FormSearch } from '@/components/form-search';
import { LinkExport } from '@/components/link-export';
import { PickerTimeRange } from '@/components/picker-time-range';
import { SelectEventType } from '@/components/select-event-type';
import { SelectMulti } from '@/components/select-multi';
import { SelectSource } from '@/components/select-source';
import { StateEmpty } from '@/components/state-empty';
import { StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TableDeliveries } from '@/components/table-deliveries';
import { RECEIPT_OUTCOMES } from '@/db/schema';
import { deliveriesApiFilter, deliveriesOptions } from '@/lib/queries/deliveries';
import { type DeliveriesParams, deliveriesParsers } from './search-params';

export function DeliveriesClient() {
  const [params, set] = useQueryStates(deliveriesParsers);
  const { live, ...filters } = params;
  const list = useInfiniteQuery(deliveriesOptions(filters, live));
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <>
      <div className="page-head">
        <h1>Deliveries</h1>
        <label className="row" style={{ fontSize: '0.9rem' }}>
          <input type="checkbox" checked={live} onChange={(e) => set({ live: e.target.checked })} />
          Live tail
        </label>
      </div>
      <div className="toolbar" style={{ marginBottom: '0.75rem' }}>
        <PickerTimeRange
          value={params}
          onChange={({ range, from, to }) => set({ range, from, to })}
          extra={[{ value: 'all', label: 'All time' }]}
        />
        <SelectSource value={params.source} onChange={(source) => set({ source })} />
        <SelectMulti
          label="Outcome"
          options={RECEIPT_OUTCOMES}
          value={params.outcome}
          onChange={(outcome) => set({ outcome })}
        />
        <label className="field">
          Processing
          <select
            aria-label="Processing"
            value={params.status ?? ''}
            onChange={(e) => set({ status: (e.target.value || null) as DeliveriesParams['status'] })}
          >
            <option value="">Any state</option>
            <option value="processed">processed</option>
            <option value="pending">pending (waiting or running)</option>
            <option value="dead">dead (in the DLQ)</option>
            <option value="discarded">discarded</option>
          </select>
        </label>
        <SelectEventType value={params.event_type} onChange={(event_type) => set({ event_type })} />
        <FormSearch
          label="Delivery id"
          button="Search"
          initial={params.q}
          placeholder="starts with…"
          onSearch={(q) => set({ q })}
        />
        <FormContentSearch initial={params} onSearch={(content) => set(content)} />
      </div>
      <div className="row" style={{ marginBottom: '0.75rem' }}>
        <LinkExport endpoint="/api/deliveries/export" filter={deliveriesApiFilter(filters)} />
        <ButtonEnqueueMatching filters={filters} />
      </div>
      {live && (
        <p className="muted" role="status" style={{ margin: '0 0 0.5rem' }}>
          Live tail: the newest deliveries refresh every 3 seconds.
        </p>
      )}
      <div className="table-wrap">
        {list.isPending ? (
          <StateLoading label="Loading deliveries" rows={6} />
        ) : list.isError ? (
          <StateError error={list.error} onRetry={() => list.refetch()} />
        ) : rows.length === 0 ? (
          <StateEmpty title="No deliveries match">Widen the time range or clear the filters.</StateEmpty>
        ) : (
          <>
            <TableDeliveries rows={rows} />
            {!live && (
              <div className="table-foot">
                {list.hasNextPage ? (
                  <ButtonLoadMore list={list} />
                ) : (
                  <span className="muted">End of the log · {rows.length} shown</span>
                )}
              </div>
            )}
          </>
        )}
      </div>
    </>
  );
}
