'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { FormPasswordChange } from '@/components/form-password-change';
import { FormTokenCreate } from '@/components/form-token-create';
import { useMe } from '@/components/provider-me';
import { StateEmpty } from '@/components/state-empty';
import { describeApiError, StateError } from '@/components/state-error';
import { StateLoading } from '@/components/state-loading';
import { TableSessions } from '@/components/table-sessions';
import { TableTokens } from '@/components/table-tokens';
import { revokeSession, revokeToken, sessionsQuery, tokensQuery } from '@/lib/queries/account';

export function AccountClient() {
  const me = useMe();
  const qc = useQueryClient();
  const sessions = useQuery(sessionsQuery());
  const tokens = useQuery(tokensQuery());
  const refresh = () => qc.invalidateQueries({ queryKey: ['account'] });
  const dropSession = useMutation({ mutationFn: revokeSession, onSettled: refresh });
  const dropToken = useMutation({ mutationFn: revokeToken, onSettled: refresh });
  const failed = dropSession.error ?? dropToken.error;
  return (
    <>
      <div className="page-head">
        <h1>Your account</h1>
        <span className="muted">
          {me.email} · {me.role}
        </span>
      </div>
      {failed && (
        <div className="alert" data-tone="bad" role="alert">
          {describeApiError(failed).detail}
        </div>
      )}
      <div className="stack">
        <FormPasswordChange onChanged={refresh} />
        <section className="panel stack" aria-labelledby="sessions-title">
          <h2 id="sessions-title">Sessions</h2>
          <div className="table-wrap">
            {sessions.isPending ? (
              <StateLoading label="Loading sessions" rows={2} />
            ) : sessions.isError ? (
              <StateError error={sessions.error} onRetry={() => sessions.refetch()} />
            ) : (
              <TableSessions
                sessions={sessions.data}
                busyId={dropSession.isPending ? dropSession.variables : null}
                onRevoke={(id) => dropSession.mutate(id)}
              />
            )}
          </div>
        </section>
        <section className="panel stack" aria-labelledby="tokens-title">
          <h2 id="tokens-title">API tokens</h2>
          <p className="muted" style={{ margin: 0 }}>
            Send as <code>Authorization: Bearer &lt;token&gt;</code>. A token acts with its own role, never
            above yours.
          </p>
          <FormTokenCreate />
          <div className="table-wrap">
            {tokens.isPending ? (
              <StateLoading label="Loading API tokens" rows={2} />
            ) : tokens.isError ? (
              <StateError error={tokens.error} onRetry={() => tokens.refetch()} />
            ) : tokens.data.length === 0 ? (
              <StateEmpty title="No API tokens yet" />
            ) : (
              <TableTokens
                tokens={tokens.data}
                busyId={dropToken.isPending ? dropToken.variables : null}
                onRevoke={(id) => dropToken.mutate(id)}
              />
            )}
          </div>
        </section>
      </div>
    </>
  );
}
