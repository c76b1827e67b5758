// Fixed values the e2e server is started with and the tests log in / sign with. Test-only secrets.
// E2E_PORT moves the app (and the downstream sink, two above it) so two checkouts can run e2e at once.
export const PORT = Number(process.env.E2E_PORT ?? 3100);
export const BASE_URL = `http://localhost:${PORT}`;
export const DOWNSTREAM_PORT = PORT + 2;
export const DOWNSTREAM_URL = `http://127.0.0.1:${DOWNSTREAM_PORT}`;
export const PASSWORD = 'e2e-dashboard-password';
/** The bootstrap admin, created from DASHBOARD_PASSWORD at first start. */
export const ADMIN_EMAIL = 'admin@localhost';
export const API_TOKEN = 'e2e-api-token-0123456789abcdef';
export const WEBHOOK_SECRET = 'e2e-webhook-signing-secret';
export const SLY_SECRET = 'whsec_e2e_sly_signing_secret';
