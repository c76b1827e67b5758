'use client';

import { type FormEvent, useEffect, useState } from 'react';

/** A labelled text filter applied on submit; an empty value clears the filter (null). */
export function FormSearch({
  label,
  button,
  initial,
  placeholder,
  onSearch,
}: {
  label: string;
  button: string;
  initial: string | null;
  placeholder?: string;
  onSearch: (value: string | null) => void;
}) {
  const [value, setValue] = useState(initial ?? '');
  // The URL changed under the form (Back, a link): the input shows what the list is filtered by.
  useEffect(() => setValue(initial ?? ''), [initial]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(value.trim() || null);
  };
  return (
    <form onSubmit={submit} className="row" style={{ alignItems: 'end' }}>
      <label className="field">
        {label}
        <input
          type="search"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder={placeholder}
          maxLength={200}
        />
      </label>
      <button type="submit">{button}</button>
    </form>
  );
}
