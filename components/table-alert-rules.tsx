'use client';

import { useEffect, useState } from 'react';
import type { AlertRuleJson } from '@/lib/queries/alerts';
import { DialogConfirm } from './dialog-confirm';

type Patch = { enabled?: boolean; threshold?: number; window_minutes?: number };

/** One rule's settings row: on/off, threshold and window, saved together. */
function RuleRow({
  r,
  locked,
  busy,
  onSave,
}: {
  r: AlertRuleJson;
  locked: string | undefined;
  busy: boolean;
  onSave: (rule: string, patch: Patch) => void;
}) {
  const [threshold, setThreshold] = useState(String(r.threshold));
  const [windowMinutes, setWindowMinutes] = useState(String(r.window_minutes));
  const [confirmOff, setConfirmOff] = useState(false);
  // Saved values change under the inputs (this save, another admin's seen on a refetch): the inputs
  // follow, so Save is not left armed with stale values that would undo the other change.
  useEffect(() => setThreshold(String(r.threshold)), [r.threshold]);
  useEffect(() => setWindowMinutes(String(r.window_minutes)), [r.window_minutes]);
  const changed =
    (r.threshold_label !== null && Number(threshold) !== r.threshold) ||
    (r.window_label !== null && Number(windowMinutes) !== r.window_minutes);
  return (
    <tr data-testid={`rule-${r.rule}`}>
      <td>
        <strong>{r.label}</strong> <span className="mono muted">{r.rule}</span>
        <div className="muted" style={{ fontSize: '0.8rem' }}>
          {r.description}
        </div>
      </td>
      <td>
        <span className="badge" data-tone={r.severity === 'critical' ? 'bad' : 'warn'}>
          {r.severity}
        </span>
        <div className="muted" style={{ fontSize: '0.75rem' }}>
          {r.side === 'provider' ? "provider's side" : 'our side'}
        </div>
      </td>
      <td>
        <button
          type="button"
          role="switch"
          className="switch"
          aria-checked={r.enabled}
          aria-label={`Enabled: ${r.rule}`}
          disabled={locked !== undefined || busy}
          title={locked}
          onClick={() => (r.enabled ? setConfirmOff(true) : onSave(r.rule, { enabled: true }))}
        />
        {confirmOff && (
          <DialogConfirm
            title={`Switch off ${r.label}?`}
            confirmLabel="Switch off"
            danger
            busy={busy}
            onConfirm={() => {
              setConfirmOff(false);
              onSave(r.rule, { enabled: false });
            }}
            onCancel={() => setConfirmOff(false)}
          >
            <p>
              Nothing will tell anyone about this condition while it is off (
              {r.description.replace(/\.$/, '')}
              ). Its open incidents resolve now. Your name goes in the audit log.
            </p>
          </DialogConfirm>
        )}
      </td>
      <td>
        {r.threshold_label === null ? (
          <span className="muted">—</span>
        ) : (
          <label className="field">
            <span>{r.threshold_label}</span>
            <input
              type="number"
              min={0}
              step="any"
              value={threshold}
              disabled={locked !== undefined}
              onChange={(e) => setThreshold(e.target.value)}
              aria-label={`Threshold: ${r.rule}`}
            />
          </label>
        )}
      </td>
      <td>
        {r.window_label === null ? (
          <span className="muted">—</span>
        ) : (
          <label className="field">
            <span>{r.window_label}</span>
            <input
              type="number"
              min={1}
              step={1}
              value={windowMinutes}
              disabled={locked !== undefined}
              onChange={(e) => setWindowMinutes(e.target.value)}
              aria-label={`Window: ${r.rule}`}
            />
          </label>
        )}
      </td>
      <td>
        <button
          type="button"
          className="small"
          disabled={!changed || busy || locked !== undefined}
          title={locked}
          onClick={() =>
            onSave(r.rule, {
              ...(r.threshold_label !== null ? { threshold: Number(threshold) } : {}),
              ...(r.window_label !== null ? { window_minutes: Number(windowMinutes) } : {}),
            })
          }
        >
          Save
        </button>
        {r.updated_by && (
          <div className="muted" style={{ fontSize: '0.75rem' }}>
            changed by {r.updated_by}
          </div>
        )}
      </td>
    </tr>
  );
}

/** The rules an operator can tune or switch off (admins), with their defaults' meaning. */
export function TableAlertRules({
  rules,
  locked,
  busyRule,
  onSave,
}: {
  rules: AlertRuleJson[];
  locked: string | undefined;
  busyRule: string | null;
  onSave: (rule: string, patch: Patch) => void;
}) {
  return (
    <table aria-label="Alert rules">
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Severity</th>
          <th scope="col">Enabled</th>
          <th scope="col">Threshold</th>
          <th scope="col">Window</th>
          <th scope="col">
            <span className="visually-hidden">Save</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rules.map((r) => (
          <RuleRow key={r.rule} r={r} locked={locked} busy={busyRule === r.rule} onSave={onSave} />
        ))}
      </tbody>
    </table>
  );
}
