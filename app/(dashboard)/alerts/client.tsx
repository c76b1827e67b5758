'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { NoteRole, useLocked } from '@/components/note-role';
import { PanelSandboxFaults } from '@/components/panel-sandbox-faults';
import { StateEmpty } from '@/components/state-empty';
import { describeApiError, StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { StatusVerdict } from '@/components/status-verdict';
import { TableAlertRules } from '@/components/table-alert-rules';
import { TableAlerts } from '@/components/table-alerts';
import { formatAge, formatTime, zoneLabel } from '@/lib/format';
import {
  acknowledgeAlertRequest,
  alertRulesOptions,
  alertsOptions,
  patchAlertRuleRequest,
} from '@/lib/queries/alerts';
import { useTimeZone } from '@/lib/time-zone';

export function AlertsClient() {
  const { timeZone } = useTimeZone();
  const qc = useQueryClient();
  const active = useQuery(alertsOptions('active'));
  const history = useQuery(alertsOptions('resolved'));
  const rules = useQuery(alertRulesOptions());
  const [message, setMessage] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);
  const fail = (err: unknown) => {
    const e = describeApiError(err);
    setMessage({ tone: 'bad', text: `${e.title}: ${e.detail}` });
  };
  const ack = useMutation({
    mutationFn: (id: number) => acknowledgeAlertRequest(id),
    onSuccess: (a) => setMessage({ tone: 'ok', text: `Acknowledged: ${a.rule} (${a.subject}).` }),
    onError: fail,
    onSettled: () => qc.invalidateQueries({ queryKey: ['alerts'] }),
  });
  const save = useMutation({
    mutationFn: (v: { rule: string; patch: Parameters<typeof patchAlertRuleRequest>[1] }) =>
      patchAlertRuleRequest(v.rule, v.patch),
    onSuccess: (r) => setMessage({ tone: 'ok', text: `Rule ${r.rule} saved.` }),
    onError: fail,
    onSettled: () => qc.invalidateQueries({ queryKey: ['alerts'] }),
  });
  const operatorLock = useLocked('operator');
  const adminLock = useLocked('admin');
  const channel = rules.data?.channel;

  return (
    <>
      <div className="page-head">
        <h1>Alerts</h1>
        <button type="button" onClick={() => qc.invalidateQueries({ queryKey: ['alerts'] })}>
          Refresh
        </button>
      </div>
      <NoteRole needed="operator" what="acknowledging alerts" />
      <StatusVerdict />
      {message && (
        <div className="alert" data-tone={message.tone} role="status">
          {message.text}
        </div>
      )}
      <section aria-label="Open alerts">
        <div className="section-head">
          <h2>Open</h2>
        </div>
        <div className="table-wrap">
          {active.isPending ? (
            <StateLoading label="Loading alerts" rows={2} />
          ) : active.isError ? (
            <StateError error={active.error} onRetry={() => active.refetch()} />
          ) : active.data.length === 0 ? (
            <StateEmpty title="No open alerts">Every rule's condition is clear.</StateEmpty>
          ) : (
            <TableAlerts
              rows={active.data}
              label="Open alerts"
              busyId={ack.isPending ? (ack.variables ?? null) : null}
              locked={operatorLock}
              onAcknowledge={(a) => ack.mutate(a.id)}
            />
          )}
        </div>
      </section>
      <PanelSandboxFaults />
      <section aria-label="Alert history">
        <div className="section-head">
          <h2>History</h2>
        </div>
        <div className="table-wrap">
          {history.isPending ? (
            <StateLoading label="Loading history" rows={2} />
          ) : history.isError ? (
            <StateError error={history.error} onRetry={() => history.refetch()} />
          ) : history.data.length === 0 ? (
            <StateEmpty title="No resolved alerts yet">
              Resolved incidents appear here with their duration.
            </StateEmpty>
          ) : (
            <TableAlerts rows={history.data} label="Alert history" busyId={null} locked={operatorLock} />
          )}
        </div>
      </section>
      <section aria-label="Alert rules">
        <div className="section-head">
          <h2>Rules</h2>
        </div>
        {channel && (
          <p className="muted" data-testid="alert-channel">
            Channel:{' '}
            {channel.configured
              ? `${channel.configured} · ${channel.delivered} delivered, ${channel.pending} waiting${channel.last_error ? ` · last error: ${channel.last_error}` : ''}${channel.last_delivered_at ? ` · last at ${formatTime(channel.last_delivered_at, timeZone)} ${zoneLabel(timeZone)}` : ''}`
              : 'none configured (set ALERT_WEBHOOK_URL); state changes go to the log and Prometheus'}
            {' · '}evaluated every {formatAge(channel.evaluation_interval_ms)}
          </p>
        )}
        <NoteRole needed="admin" what="changing rules" />
        <div className="table-wrap">
          {rules.isPending ? (
            <StateLoading label="Loading rules" rows={4} />
          ) : rules.isError ? (
            <StateError error={rules.error} onRetry={() => rules.refetch()} />
          ) : (
            <TableAlertRules
              rules={rules.data.rules}
              locked={adminLock}
              busyRule={save.isPending ? (save.variables?.rule ?? null) : null}
              onSave={(rule, patch) => save.mutate({ rule, patch })}
            />
          )}
        </div>
      </section>
    </>
  );
}
