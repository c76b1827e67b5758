export function StateLoading({ label = 'Loading…', rows = 3 }: { label?: string; rows?: number }) {
  return (
    <div role="status" aria-label={label} aria-busy="true" style={{ padding: '0.75rem' }}>
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="skeleton" style={{ height: '1.4rem', margin: '0.5rem 0' }} />
      ))}
      <span className="visually-hidden">{label}</span>
    </div>
  );
}
