import { patchRule } from '@/lib/alerts/service';
import { authed, ok, parseBody, parseParams } from '@/lib/api/route';
import { alertRuleParamSchema, alertRulePatchBodySchema } from '@/lib/api/schemas';

export const dynamic = 'force-dynamic';

/** Rules are configuration: admins change them; audited as alert_rule_update. */
export const PATCH = authed<{ rule: string }>('admin', async (request, who, params) => {
  const patch = await parseBody(alertRulePatchBodySchema, request);
  const { rule } = parseParams(alertRuleParamSchema, params);
  return ok(await patchRule(rule, patch, who));
});
