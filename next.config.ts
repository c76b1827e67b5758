import type { NextConfig } from 'next';
import { securityHeaders } from './lib/security-headers';

const config: NextConfig = {
  // PGlite loads its WASM and data files from its package folder at runtime; bundling breaks that.
  serverExternalPackages: ['@electric-sql/pglite', 'pino', 'prom-client', 'postgres'],
  poweredByHeader: false,
  // `npm run check` type-checks the whole project (tests included) once; builds need not repeat it.
  typescript: { ignoreBuildErrors: true },
  reactStrictMode: true,
  async headers() {
    return [{ source: '/:path*', headers: securityHeaders(process.env.NODE_ENV === 'production') }];
  },
};

export default config;
