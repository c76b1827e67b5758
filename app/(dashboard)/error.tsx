'use client';

import Link from 'next/link';

/** A page that threw while rendering: the navigation stays, and the operator can try again. */
export default function PageError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <div className="panel">
      <div className="state" data-kind="error" role="alert">
        <div className="state-title">Something went wrong on this page</div>
        <p>
          The page could not be shown
          {error.digest ? ` (reference ${error.digest}, also in the server log)` : ''}. Nothing was changed.
          Try again, or go back to the <Link href="/">overview</Link>.
        </p>
        <button type="button" onClick={reset}>
          Try again
        </button>
      </div>
    </div>
  );
}
