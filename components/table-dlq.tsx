import { keptUntil } from '@/lib/dlq-retention';
import { formatAge } from '@/lib/format';
import type { DeadLetterRow } from '@/lib/queries/types';
import { serverNow } from '@/lib/server-clock';
import { BadgeFailure } from './badge-failure';
import { CellSource } from './cell-source';
import { TextTime } from './text-time';

export function TableDlq({
  rows,
  retentionDays,
  selected,
  checked,
  onToggle,
  onOpen,
}: {
  rows: DeadLetterRow[];
  retentionDays: number;
  selected: number | null;
  checked: ReadonlySet<number>;
  onToggle: (id: number, on: boolean) => void;
  onOpen: (id: number) => void;
}) {
  const now = serverNow();
  return (
    <table aria-label="Dead letters">
      <thead>
        <tr>
          <th scope="col">
            <span className="visually-hidden">Select</span>
          </th>
          <th scope="col">Event</th>
          <th scope="col">Source</th>
          <th scope="col">Failure</th>
          <th scope="col">Last error</th>
          <th scope="col" title="Every attempt, across manual retries">
            Attempts
          </th>
          <th scope="col">First failure</th>
          <th scope="col">Last failure</th>
          <th scope="col">Age</th>
          <th
            scope="col"
            title="The raw request (headers and body as received) is pruned RETENTION_DAYS after arrival; the payload stays while the event is dead"
          >
            Receipts kept
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id} aria-selected={selected === r.id}>
            <td>
              <input
                type="checkbox"
                aria-label={`Select dead letter ${r.delivery_id}`}
                checked={checked.has(r.id)}
                onChange={(e) => onToggle(r.id, e.target.checked)}
              />
            </td>
            <td>
              <button
                type="button"
                className="small"
                onClick={() => onOpen(r.id)}
                aria-label={`Open dead letter ${r.delivery_id}`}
              >
                {r.event_type}
              </button>
              <div className="mono muted" style={{ fontSize: '0.75rem' }}>
                {r.delivery_id}
              </div>
            </td>
            <CellSource source={r.source} provider={r.provider} />
            <td>
              <BadgeFailure value={r.failure} />
            </td>
            <td className="clip" title={r.last_error ?? ''}>
              {r.last_error ?? '—'}
            </td>
            <td className="num">{r.total_attempts}</td>
            <td className="time">
              <TextTime iso={r.first_failure_at} />
            </td>
            <td className="time">
              <TextTime iso={r.last_failure_at} />
            </td>
            <td className="num">{formatAge(now - new Date(r.created_at).getTime())}</td>
            <td className="num" title={`Until ${keptUntil(r.created_at, retentionDays).toISOString()}`}>
              {formatAge(Math.max(0, keptUntil(r.created_at, retentionDays).getTime() - now))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
