import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import type { RawSearchParams } from '@/lib/api/page-params';
import { hasPageSession } from '@/lib/auth/page';
import { LoginClient } from './client';
import { parseLoginParams } from './search-params';

export const metadata: Metadata = { title: 'Log in · Webhook ops' };

export default async function LoginPage({ searchParams }: { searchParams: Promise<RawSearchParams> }) {
  const { next } = parseLoginParams(await searchParams);
  if (await hasPageSession()) redirect(next);
  return <LoginClient next={next} />;
}
