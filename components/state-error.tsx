import { ApiError } from '@/lib/queries/fetch-json';

/** What an operator should read for each failure, rather than a raw status code. */
export function describeApiError(err: unknown): { title: string; detail: string } {
  if (!(err instanceof ApiError)) return { title: 'Something went wrong', detail: String(err) };
  switch (err.code) {
    case 'provider_unreachable':
      return { title: 'The provider is unreachable', detail: `${err.message}. Try again in a moment.` };
    case 'rate_limited':
      return { title: 'Rate-limited', detail: err.message };
    case 'provider_error':
      return {
        title: /api key/i.test(err.message)
          ? 'The provider refused our API key'
          : 'The provider answered with an error',
        detail: err.message,
      };
    case 'network':
      return { title: 'Cannot reach the dashboard server', detail: 'Check the connection and retry.' };
    case 'unavailable':
      return { title: 'Database unavailable', detail: err.message };
    default:
      return { title: 'Request failed', detail: err.message };
  }
}

export function StateError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { title, detail } = describeApiError(error);
  return (
    <div className="state" data-kind="error" role="alert">
      <div className="state-title">{title}</div>
      <div>{detail}</div>
      {onRetry && (
        <button type="button" onClick={onRetry} style={{ marginTop: '0.75rem' }}>
          Retry
        </button>
      )}
    </div>
  );
}
