import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="panel">
      <div className="state" data-kind="empty" role="status">
        <div className="state-title">Page not found</div>
        <p>
          Nothing lives at this address. The <Link href="/deliveries">delivery log</Link> and the{' '}
          <Link href="/">overview</Link> are good places to start.
        </p>
      </div>
    </div>
  );
}
