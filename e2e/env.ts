// Fixed values the e2e server is started with and the tests log in / sign with. Test-only secrets.
export const PORT = 3100;
export const BASE_URL = `http://localhost:${PORT}`;
export const DOWNSTREAM_PORT = 3102;
export const DOWNSTREAM_URL = `http://127.0.0.1:${DOWNSTREAM_PORT}`;
export const PASSWORD = 'e2e-dashboard-password';
export const API_TOKEN = 'e2e-api-token-0123456789abcdef';
export const WEBHOOK_SECRET = 'e2e-webhook-signing-secret';
