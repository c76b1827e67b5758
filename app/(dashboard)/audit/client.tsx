'use client';

import { useInfiniteQuery } from '@tanstack/react-query';
import { usePathname, useRouter } from 'next/navigation';
import { useMemo } from 'react';
import { FormSearch } from '@/components/form-search';
import { PickerTimeRange } from '@/components/picker-time-range';
import { SelectAuditAction } from '@/components/select-audit-action';
import { StateEmpty } from '@/components/state-empty';
import { StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TableAudit } from '@/components/table-audit';
import { rangeMs } from '@/lib/metrics/buckets';
import { type AuditFilters, auditExportUrl, auditListOptions } from '@/lib/queries/audit';
import { type AuditParams, auditSearch } from './search-params';

export function AuditClient({ params }: { params: AuditParams }) {
  const router = useRouter();
  const path = usePathname();
  const set = (patch: Partial<AuditParams>) =>
    router.replace(`${path}${auditSearch({ ...params, ...patch })}`, { scroll: false });
  // The range's start is fixed when the filter changes, so paging does not shift under the reader.
  const filters: AuditFilters = useMemo(
    () => ({
      actor: params.actor,
      action: params.action,
      from: params.range === 'all' ? undefined : new Date(Date.now() - rangeMs(params.range)).toISOString(),
    }),
    [params.actor, params.action, params.range],
  );
  const list = useInfiniteQuery(auditListOptions(filters));
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Audit log</h1>
        <div className="row">
          <a className="button" href={auditExportUrl(filters, 'csv')} download>
            Export CSV
          </a>
          <a className="button" href={auditExportUrl(filters, 'ndjson')} download>
            Export NDJSON
          </a>
          <button type="button" onClick={() => list.refetch()} disabled={list.isFetching}>
            {list.isFetching ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      <div className="toolbar" style={{ marginBottom: '0.75rem' }}>
        <FormSearch
          label="User"
          button="Filter"
          placeholder="email"
          initial={params.actor}
          onSearch={(actor) => set({ actor })}
        />
        <SelectAuditAction
          value={params.action}
          onChange={(action) => set({ action: action as AuditParams['action'] })}
        />
        <PickerTimeRange
          value={params.range}
          onChange={(range) => set({ range })}
          extra={[{ value: 'all', label: 'All time' }]}
        />
      </div>
      <div className="table-wrap">
        {list.isPending ? (
          <StateLoading label="Loading audit log" rows={5} />
        ) : list.isError ? (
          <StateError error={list.error} onRetry={() => list.refetch()} />
        ) : rows.length === 0 ? (
          <StateEmpty title="Nothing audited matches">
            Logins, toggles, retries, discards and changes to people appear here.
          </StateEmpty>
        ) : (
          <>
            <TableAudit rows={rows} />
            {list.hasNextPage && (
              <div className="table-foot">
                <button type="button" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
                  {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
                </button>
              </div>
            )}
          </>
        )}
      </div>
    </>
  );
}
