import type { SignatureDiagnosis } from '@/db/schema';
import { SIGNATURE_CAUSE_LABELS } from '@/lib/sources/causes';

/**
 * Why this delivery's signature was refused, as worked out in the background after the 400 (the
 * receipt is recorded with it, so a refused signature always has one).
 */
export function PanelSignatureForensics({ forensics }: { forensics: SignatureDiagnosis }) {
  return (
    <section className="panel" aria-labelledby="forensics-title">
      <h2 id="forensics-title">Signature forensics</h2>
      <dl className="kv">
        <dt>Most likely cause</dt>
        <dd data-testid="forensics-cause">
          <strong>{SIGNATURE_CAUSE_LABELS[forensics.cause] ?? forensics.cause}</strong>
        </dd>
        <dt>Why</dt>
        <dd>{forensics.detail}</dd>
        {forensics.secret && (
          <>
            <dt>Secret</dt>
            <dd className="mono">
              {forensics.secret.label ?? 'unlabelled'} …{forensics.secret.last4}
              {forensics.secret.expired_at
                ? ` (retired ${forensics.secret.expired_at.slice(0, 19).replace('T', ' ')} UTC)`
                : ''}
            </dd>
          </>
        )}
        <dt>Presented signature</dt>
        <dd className="mono" style={{ wordBreak: 'break-all' }}>
          {forensics.presented ?? '(none)'}
        </dd>
        <dt>Work</dt>
        <dd>{forensics.hmacs} HMACs</dd>
      </dl>
    </section>
  );
}
