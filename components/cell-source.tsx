import { providerLabel } from '@/lib/providers/catalog';

/** The source a row arrived on, with its provider under it. */
export function CellSource({ source, provider }: { source: string; provider: string | null }) {
  return (
    <td>
      {source}
      <div className="muted" style={{ fontSize: '0.75rem' }}>
        {provider ? providerLabel(provider) : 'unknown source'}
      </div>
    </td>
  );
}
