'use client';

import { type FormEvent, useEffect, useState } from 'react';

export type ContentSearch = { text: string | null; path: string | null; value: string | null };

/**
 * Search by content: text anywhere in the payload, and/or a JSON path equal to a value. Applied on
 * submit; an empty field clears its filter.
 */
export function FormContentSearch({
  initial,
  onSearch,
}: {
  initial: ContentSearch;
  onSearch: (value: ContentSearch) => void;
}) {
  const [text, setText] = useState(initial.text ?? '');
  const [path, setPath] = useState(initial.path ?? '');
  const [value, setValue] = useState(initial.value ?? '');
  // The URL changed under the form (Back, a link): the inputs show what the list is filtered by.
  useEffect(() => {
    setText(initial.text ?? '');
    setPath(initial.path ?? '');
    setValue(initial.value ?? '');
  }, [initial.text, initial.path, initial.value]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = path.trim();
    onSearch({ text: text.trim() || null, path: p || null, value: p ? value : null });
  };
  return (
    <form onSubmit={submit} className="row" style={{ alignItems: 'end' }} aria-label="Search payloads">
      <label className="field">
        Payload contains
        <input
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="any text, 3+ characters"
          minLength={3}
          maxLength={200}
        />
      </label>
      <label className="field">
        JSON path
        <input
          type="search"
          value={path}
          onChange={(e) => setPath(e.target.value)}
          placeholder="data.contact.email"
          maxLength={200}
        />
      </label>
      <label className="field">
        equals
        <input type="search" value={value} onChange={(e) => setValue(e.target.value)} maxLength={200} />
      </label>
      <button type="submit">Match payloads</button>
    </form>
  );
}
