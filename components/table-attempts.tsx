import { formatMs, formatTime } from '@/lib/format';
import type { EventDetail } from '@/lib/queries/types';
import { BadgeStatus } from './badge-status';
import { StateEmpty } from './state-empty';

type Attempt = EventDetail['attempt_history'][number];

export function TableAttempts({ attempts }: { attempts: Attempt[] }) {
  if (attempts.length === 0) return <StateEmpty title="No attempts yet" />;
  return (
    <div className="table-wrap">
      <table aria-label="Attempts">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Started (UTC)</th>
            <th scope="col">Result</th>
            <th scope="col">Duration</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((a) => (
            <tr key={a.id}>
              <td className="num">{a.attempt}</td>
              <td className="time">{formatTime(a.started_at)}</td>
              <td>
                <BadgeStatus value={a.result} />
              </td>
              <td className="num">{formatMs(a.duration_ms)}</td>
              <td>{a.error ?? <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
