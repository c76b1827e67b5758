'use client';

import { useSyncExternalStore } from 'react';

/** How times are shown: in UTC (the default, what the API and the logs use) or the browser's zone. */
export const TIME_ZONE_CHOICES = ['utc', 'local'] as const;
export type TimeZoneChoice = (typeof TIME_ZONE_CHOICES)[number];

const KEY = 'webhook-ops.time-zone';
const listeners = new Set<() => void>();

function read(): TimeZoneChoice {
  try {
    return window.localStorage.getItem(KEY) === 'local' ? 'local' : 'utc';
  } catch {
    return 'utc'; // storage blocked (private mode, policy): UTC for this page view
  }
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  // Another tab switching the zone switches it here too.
  const onStorage = (e: StorageEvent) => {
    if (e.key === KEY) listener();
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

export function setTimeZoneChoice(choice: TimeZoneChoice) {
  try {
    window.localStorage.setItem(KEY, choice);
  } catch {
    // not remembered, but still applied below for this page view
  }
  for (const l of listeners) l();
}

/** The browser's IANA zone; UTC where the runtime cannot tell. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * The operator's choice and the IANA zone it means. The server renders UTC (it cannot know the
 * browser's zone); the remembered choice applies right after hydration.
 */
export function useTimeZone(): { choice: TimeZoneChoice; timeZone: string } {
  const choice = useSyncExternalStore(subscribe, read, () => 'utc' as const);
  return { choice, timeZone: choice === 'local' ? browserTimeZone() : 'UTC' };
}
