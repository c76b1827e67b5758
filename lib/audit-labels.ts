import type { AuditAction } from '@/db/schema';

/** Names for the audit's actions; typed so that a new action without a label fails the build. */
export const AUDIT_ACTION_LABELS: Record<AuditAction, string> = {
  login: 'Login',
  login_failed: 'Login failed',
  logout: 'Logout',
  webhook_toggle: 'Webhook toggled',
  dlq_retry: 'Dead letter retried',
  dlq_bulk_retry: 'Dead letters bulk-retried',
  dlq_discard: 'Dead letter discarded',
  delivery_enqueue: 'Delivery queued by hand',
  request_refused: 'Request refused',
  user_create: 'User created',
  user_update: 'User changed',
  password_change: 'Password changed',
  session_revoke: 'Session revoked',
  token_create: 'API token created',
  token_revoke: 'API token revoked',
  sandbox_outage: 'Sandbox downstream outage switched',
  source_create: 'Source added',
  source_update: 'Source changed',
  alert_acknowledge: 'Alert acknowledged',
  alert_rule_update: 'Alert rule changed',
  sandbox_fault: 'Sandbox fault switched',
};
