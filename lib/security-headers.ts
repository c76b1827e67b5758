// Security headers for every response: pages and API through next.config.ts, and the receiver's
// own node:http path (scripts/start.ts), so both answer alike. The CSP allows inline styles because
// recharts sets them; scripts are limited to our origin plus the inline bootstrap Next emits.
export function securityHeaders(production: boolean): Array<{ key: string; value: string }> {
  return [
    {
      key: 'Content-Security-Policy',
      value: [
        "default-src 'self'",
        // React's dev build evaluates code for its debugging aids; production needs no eval.
        `script-src 'self' 'unsafe-inline'${production ? '' : " 'unsafe-eval'"}`,
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
}
