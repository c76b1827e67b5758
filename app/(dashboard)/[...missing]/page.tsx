import { notFound } from 'next/navigation';

// Any path no page matches: rendered by this group's not-found.tsx, inside the dashboard's layout, so
// the navigation stays (the root not-found would render without it).
export default function MissingPage() {
  notFound();
}
