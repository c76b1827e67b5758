import client from 'prom-client';

type Metrics = ReturnType<typeof create>;

function create() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  // Process metrics are useful to a scraper; the exact Node version only helps an attacker pick an exploit.
  registry.removeSingleMetric('nodejs_version_info');
  return {
    registry,
    receipts: new client.Counter({
      name: 'skylight_receipts_total',
      help: 'Webhook requests received, by provider, source, outcome and event type',
      labelNames: ['provider', 'source', 'outcome', 'event_type'] as const,
      registers: [registry],
    }),
    ackSeconds: new client.Histogram({
      name: 'skylight_ack_seconds',
      help: 'Time from request start to response ready, by provider and outcome',
      labelNames: ['provider', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    workerAttempts: new client.Counter({
      name: 'skylight_worker_attempts_total',
      help: 'Handler attempts by result',
      labelNames: ['result', 'event_type'] as const,
      registers: [registry],
    }),
    queueDepth: new client.Gauge({
      name: 'skylight_queue_depth',
      help: 'Events pending or processing',
      registers: [registry],
    }),
    dlqSize: new client.Gauge({
      name: 'skylight_dlq_size',
      help: 'Dead events not yet retried or discarded',
      registers: [registry],
    }),
    // Read beside skylight_receipts_total: a search index that falls behind the receipts finds less.
    searchIndexed: new client.Counter({
      name: 'skylight_search_indexed_total',
      help: 'Receipt bodies copied into the content search index by this replica',
      registers: [registry],
    }),
    refusalsUnrecorded: new client.Counter({
      name: 'skylight_refusals_unrecorded_total',
      help: 'Refused requests past the per-client, per-minute sampling limit: counted, not stored',
      registers: [registry],
    }),
    forensicsSkipped: new client.Counter({
      name: 'skylight_signature_forensics_skipped_total',
      help: 'Refused signatures stored without a diagnosis (per-minute cap or queue full)',
      registers: [registry],
    }),
    // Alerts (issue 15): the names the issue gives, without the app prefix, so a dashboard reads alerts_open{rule}.
    alertsOpen: new client.Gauge({
      name: 'alerts_open',
      help: 'Alert incidents open (not yet acknowledged), by rule',
      labelNames: ['rule'] as const,
      registers: [registry],
    }),
    alertsAcknowledged: new client.Gauge({
      name: 'alerts_acknowledged',
      help: 'Alert incidents acknowledged and not yet resolved, by rule',
      labelNames: ['rule'] as const,
      registers: [registry],
    }),
    alertTransitions: new client.Counter({
      name: 'alerts_transitions_total',
      help: 'Alert state changes made by the evaluator on this replica, by rule and transition',
      labelNames: ['rule', 'transition'] as const,
      registers: [registry],
    }),
    alertNotifications: new client.Counter({
      name: 'alerts_notifications_total',
      help: 'Posts to the alert channel by result (delivered, failed: will retry, refused: 4xx, final)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    alertsEvaluationAge: new client.Gauge({
      name: 'alerts_evaluation_age_seconds',
      help: 'Seconds since any replica last finished an alert evaluation round (-1: none yet)',
      registers: [registry],
    }),
    alertEvaluationSeconds: new client.Histogram({
      name: 'alerts_evaluation_seconds',
      help: 'Time one alert evaluation round takes',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    // On PGlite a job's statements hold the one connection every receipt write needs: a slow job here
    // is a stall of the receiver there.
    jobSeconds: new client.Histogram({
      name: 'skylight_job_seconds',
      help: 'Time one run of a background job takes, by job (rollups, search-index, alerts, prune, ...)',
      labelNames: ['job'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    // The management API's one rate limit per key (lib/providers/skylight/rate-budget.ts): `held` is
    // ours (the share kept for operators and the watchdog), `rate_limited` the provider's 429.
    managementRequests: new client.Counter({
      name: 'skylight_management_api_requests_total',
      help: "Requests to the provider's management API by use (operator, watchdog, bulk) and result (ok, held, rate_limited, error, unreachable)",
      labelNames: ['use', 'result'] as const,
      registers: [registry],
    }),
    recorderDropped: new client.Counter({
      name: 'skylight_recorder_dropped_total',
      help: 'Rejected-request records dropped because the background buffer was full',
      registers: [registry],
    }),
  };
}

// One registry per process even when Next loads this module from several bundles.
const g = globalThis as { __skylightMetrics?: Metrics };
export const metrics: Metrics = (g.__skylightMetrics ??= create());
