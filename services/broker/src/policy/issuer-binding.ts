import type { PolicyConfig } from './policy-config.js';

/** One reason the rules and the trusted IdPs do not fit together; `path` is under `policy`. */
export interface IssuerBindingIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Group, role, scope and subject names belong to the IdP that issues them: with two IdPs trusted, a
 * `sales-apps` group asserted by either would satisfy a rule that does not say which IdP it means, so
 * anyone able to name a group in the second IdP would get the first IdP's grants. With more than one
 * IdP every rule must therefore name its issuer(s); with one, a rule without issuer means that IdP.
 * An issuer a rule names must be one of the trusted IdPs: a misspelt issuer would never match, and the
 * rule would silently grant nothing.
 *
 * Called by the broker configuration schema (services/broker/src/config.ts), the one place that sees
 * both `idps` and `policy`.
 */
export function issuerBindingIssues(policy: PolicyConfig, issuers: readonly string[]): IssuerBindingIssue[] {
  const issues: IssuerBindingIssue[] = [];
  const trusted = new Set(issuers);
  policy.rules.forEach((rule, i) => {
    const named = rule.match.issuer === undefined ? [] : [rule.match.issuer].flat();
    if (named.length === 0 && trusted.size > 1) {
      issues.push({
        path: ['rules', i, 'match', 'issuer'],
        message: `rule ${rule.name} must name the issuer(s) it trusts (match.issuer): ${trusted.size} IdPs are configured and any of them could assert the same group, role or scope names`,
      });
    }
    for (const issuer of named) {
      if (!trusted.has(issuer)) {
        issues.push({ path: ['rules', i, 'match', 'issuer'], message: `rule ${rule.name} names issuer ${issuer}, which is not one of the configured idps` });
      }
    }
  });
  return issues;
}
