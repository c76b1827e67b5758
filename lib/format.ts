// Display formatting shared by tables, cards and chart axes. Pure, so server and client agree.
import { stringify } from 'lossless-json';
import { parseJsonLossless } from './json';

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return formatAge(ms);
}

export function formatPct(r: number | null | undefined): string {
  if (r === null || r === undefined) return '—';
  const p = r * 100;
  return `${p === 0 || p >= 10 ? p.toFixed(0) : p.toFixed(1)} %`;
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return new Intl.NumberFormat('en', { maximumFractionDigits: n < 10 ? 1 : 0 }).format(n);
}

/** A duration as "3 s", "4 min", "2 h 5 min", "3 d". */
export function formatAge(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

// One formatter per zone: building an Intl.DateTimeFormat costs far more than using one.
const formatters = new Map<string, Intl.DateTimeFormat>();
function partsIn(d: Date, timeZone: string): Record<string, string> {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  const out: Record<string, string> = {};
  for (const p of f.formatToParts(d)) out[p.type] = p.value;
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * ISO time as "2026-01-31 14:05:09" in the given IANA zone (UTC unless the operator chose their
 * browser's zone; components/text-time.tsx is the one place pages call this from).
 */
export function formatTime(iso: string | null | undefined, timeZone = 'UTC'): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const p = partsIn(d, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** Chart axis label: "14:05" for ranges under a day, "Jan 31 14:00" for a day or more (they cross midnight). */
export function formatTick(iso: string, long: boolean, timeZone = 'UTC'): string {
  const p = partsIn(new Date(iso), timeZone);
  const hm = `${p.hour}:${p.minute}`;
  if (!long) return hm;
  return `${MONTHS[Number(p.month) - 1]} ${Number(p.day)} ${hm}`;
}

/** The zone's name as operators read it: "UTC", or the IANA name ("Europe/Paris"). */
export function zoneLabel(timeZone: string): string {
  return timeZone === 'UTC' || timeZone === 'Etc/UTC' ? 'UTC' : timeZone;
}

/**
 * Pretty-prints JSON text, numbers exactly as written (an id of 9007199254740993 shown as …992, the
 * neighbour's, is one an operator would copy); anything that is not JSON comes back unchanged.
 */
export function prettyJson(text: string | null): string {
  if (text === null) return '';
  try {
    return stringify(parseJsonLossless(text), undefined, 2) ?? text;
  } catch {
    return text;
  }
}
