import type { NextConfig } from 'next';
import { securityHeaders } from './lib/security-headers';

const config: NextConfig = {
  // PGlite loads its WASM and data files from its package folder at runtime; bundling breaks that.
  serverExternalPackages: ['@electric-sql/pglite', 'pino', 'prom-client', 'postgres'],
  poweredByHeader: false,
  // `npm run check` type-checks the whole project (tests included) once; builds need not repeat it.
  typescript: { ignoreBuildErrors: true },
  reactStrictMode: true,
  // Next copies the body of a request the proxy (proxy.ts) sees, before any route can refuse it: keep
  // that copy no larger than any JSON API route accepts (MAX_API_BODY_BYTES in lib/api/body.ts).
  experimental: { proxyClientMaxBodySize: 64 * 1024 },
  async headers() {
    return [{ source: '/:path*', headers: securityHeaders(process.env.NODE_ENV === 'production') }];
  },
};

export default config;
