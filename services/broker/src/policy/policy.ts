import { fixedLine, type Logger } from '@gtb/logger';
import type { PolicyConfig, PolicyRule } from './policy-config.js';
import { firstMismatch, profileGrant, type PolicySubject } from './rule-match.js';

/** The outcome of one policy question. `reason` is for the audit log, never for the response. */
export interface PolicyDecision {
  allowed: boolean;
  rule?: string;
  reason: string;
}

export interface Policy {
  /** May `identity` use the Genesys profile `profile`? Logs one audit line. */
  decide(identity: PolicySubject, profile: string): PolicyDecision;
  /** `decide` without the audit line, for a caller that writes it with `audit` once it acts on the decision. */
  evaluate(identity: PolicySubject, profile: string): PolicyDecision;
  /** The audit line of a profile decision (`decide` writes it itself). */
  audit(identity: PolicySubject, profile: string, decision: PolicyDecision): void;
  /** Is `identity` an administrator? Logs one audit line. */
  isAdmin(identity: PolicySubject): PolicyDecision;
}

export interface PolicyDeps {
  /** Where audit lines go (one per decision). */
  logger: Logger;
}

/**
 * Builds the access policy: ordered rules, first matching rule wins, default deny. `config` is the
 * validated `policy` of the broker configuration (brokerConfigSchema checks each rule and binds
 * rules to issuers); nothing is validated again here.
 */
export function createPolicy(config: PolicyConfig, deps: PolicyDeps): Policy {
  const rules: readonly PolicyRule[] = config.rules;
  const grants = rules.map(profileGrant);
  const { logger } = deps;
  // The audit line precompiled (fixedLine: pino's bytes without its generic per-call work); the hit path writes one per answer.
  const auditLine = fixedLine(logger, 'info', ['audit', 'action', 'issuer', 'subject', 'clientId', 'tokenFingerprint', 'profile', 'rule', 'allowed', 'reason']);

  const audit = (action: 'profile' | 'admin', who: PolicySubject, profile: string | undefined, decision: PolicyDecision) => {
    // Checked first so that a replica logging at `warn` builds no audit object on every token request.
    if (!logger.isLevelEnabled('info')) return decision;
    auditLine(
      {
        audit: true,
        action,
        issuer: who.issuer,
        subject: who.subject,
        clientId: who.clientId,
        tokenFingerprint: who.tokenFingerprint,
        profile,
        rule: decision.rule,
        allowed: decision.allowed,
        reason: decision.reason,
      },
      decision.allowed ? 'access granted' : 'access denied',
    );
    return decision;
  };

  /** Why each rule did not apply, e.g. `sales (groupsAny); ops (profile)`. */
  const explain = (misses: string[]) => (rules.length === 0 ? 'no rules configured' : `no rule allows: ${misses.join('; ')}`);

  const evaluate = (who: PolicySubject, profile: string): PolicyDecision => {
    const misses: string[] = [];
    for (const [i, rule] of rules.entries()) {
      const mismatch = firstMismatch(rule.match, who);
      if (mismatch) misses.push(`${rule.name} (${mismatch})`);
      else if (!grants[i]!(profile)) misses.push(`${rule.name} (profile)`);
      else return { allowed: true, rule: rule.name, reason: `rule ${rule.name} grants ${profile}` };
    }
    return { allowed: false, reason: explain(misses) };
  };
  const decide = (who: PolicySubject, profile: string): PolicyDecision => audit('profile', who, profile, evaluate(who, profile));

  const isAdmin = (who: PolicySubject): PolicyDecision => {
    const misses: string[] = [];
    for (const rule of rules) {
      const mismatch = firstMismatch(rule.match, who);
      if (mismatch) misses.push(`${rule.name} (${mismatch})`);
      else if (!rule.admin) misses.push(`${rule.name} (admin)`);
      else return audit('admin', who, undefined, { allowed: true, rule: rule.name, reason: `rule ${rule.name} grants admin` });
    }
    return audit('admin', who, undefined, { allowed: false, reason: explain(misses) });
  };

  return {
    decide,
    evaluate,
    audit: (who, profile, decision) => { audit('profile', who, profile, decision); },
    isAdmin,
  };
}
