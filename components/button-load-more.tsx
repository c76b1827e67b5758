'use client';

/** The next page of a paged list (react-query's infinite query); "Loading…" while it is fetched. */
export function ButtonLoadMore({
  list,
}: {
  list: { fetchNextPage: () => unknown; isFetchingNextPage: boolean };
}) {
  return (
    <button type="button" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
      {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
    </button>
  );
}
