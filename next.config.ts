import type { NextConfig } from 'next';

// Security headers for every response. The CSP allows inline styles because recharts sets them;
// scripts are limited to our own origin plus the inline bootstrap Next emits.
const securityHeaders = [
  {
    key: 'Content-Security-Policy',
    value: [
      "default-src 'self'",
      // React's dev build evaluates code for its debugging aids; production needs no eval.
      `script-src 'self' 'unsafe-inline'${process.env.NODE_ENV === 'production' ? '' : " 'unsafe-eval'"}`,
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "font-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
  },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'no-referrer' },
  { key: 'X-Frame-Options', value: 'DENY' },
];

const config: NextConfig = {
  // PGlite loads its WASM and data files from its package folder at runtime; bundling breaks that.
  serverExternalPackages: ['@electric-sql/pglite', 'pino', 'prom-client', 'postgres'],
  poweredByHeader: false,
  // `npm run check` type-checks the whole project (tests included) once; builds need not repeat it.
  typescript: { ignoreBuildErrors: true },
  reactStrictMode: true,
  async headers() {
    return [{ source: '/:path*', headers: securityHeaders }];
  },
};

export default config;
