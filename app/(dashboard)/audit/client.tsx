'use client';

import { useInfiniteQuery } from '@tanstack/react-query';
import { StateEmpty } from '@/components/state-empty';
import { StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TableAudit } from '@/components/table-audit';
import { auditOptions } from '@/lib/queries/audit';

export function AuditClient() {
  const list = useInfiniteQuery(auditOptions());
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Audit log</h1>
        <button type="button" onClick={() => list.refetch()} disabled={list.isFetching}>
          {list.isFetching ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      <div className="table-wrap">
        {list.isPending ? (
          <StateLoading label="Loading audit log" rows={5} />
        ) : list.isError ? (
          <StateError error={list.error} onRetry={() => list.refetch()} />
        ) : rows.length === 0 ? (
          <StateEmpty title="Nothing audited yet">
            Logins, toggles, retries and discards appear here.
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
