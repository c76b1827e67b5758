import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { requirePageSession } from '@/lib/auth/page';
import { DeliveryClient } from './client';
import { parseDeliveryId } from './search-params';

export const metadata: Metadata = { title: 'Delivery · Webhook ops' };

export default async function DeliveryPage({ params }: { params: Promise<{ id: string }> }) {
  const { id: raw } = await params;
  await requirePageSession(`/deliveries/${encodeURIComponent(raw)}`);
  const id = parseDeliveryId(raw);
  if (id === null) notFound();
  return <DeliveryClient id={id} />;
}
