'use client';

/**
 * A labelled set of checkboxes in a disclosure, for filters that take several values. The summary
 * names what is chosen; nothing chosen means "all".
 */
export function SelectMulti<T extends string>({
  label,
  options,
  value,
  onChange,
}: {
  label: string;
  options: readonly T[];
  value: readonly T[];
  onChange: (v: T[]) => void;
}) {
  const toggle = (o: T, on: boolean) => onChange(options.filter((x) => (x === o ? on : value.includes(x))));
  return (
    <div className="field">
      <span aria-hidden="true">{label}</span>
      <details className="multi">
        <summary aria-label={`${label}: ${value.length === 0 ? 'all' : value.join(', ')}`}>
          {value.length === 0 ? 'All' : value.join(', ')}
        </summary>
        <fieldset>
          <legend className="visually-hidden">{label}</legend>
          {options.map((o) => (
            <label key={o} className="row">
              <input
                type="checkbox"
                checked={value.includes(o)}
                onChange={(e) => toggle(o, e.target.checked)}
              />
              {o}
            </label>
          ))}
        </fieldset>
      </details>
    </div>
  );
}
