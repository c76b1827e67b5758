import type { PayloadChange } from '@/lib/payload/diff';

const KIND_TONES = { added: 'ok', removed: 'bad', changed: 'warn' } as const;

/** Field-by-field changes of a payload; values are JSON shown as text (never as markup). */
export function TablePayloadDiff({ changes, label }: { changes: PayloadChange[]; label: string }) {
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Change</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c) => (
            <tr key={`${c.kind}:${c.path}`}>
              <td className="mono">{c.path || '(whole payload)'}</td>
              <td>
                <span className="badge" data-tone={KIND_TONES[c.kind]}>
                  {c.kind}
                </span>
              </td>
              <td className="mono">{c.before ?? '—'}</td>
              <td className="mono">{c.after ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
