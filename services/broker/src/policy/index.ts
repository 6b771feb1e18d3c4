export { createPolicy, type Policy, type PolicyDecision, type PolicyDeps } from './policy.js';
export {
  policyConfigSchema,
  policyRuleSchema,
  ruleMatchSchema,
  type PolicyConfig,
  type PolicyConfigInput,
  type PolicyRule,
  type RuleMatch,
} from './policy-config.js';
export { type PolicySubject } from './rule-match.js';
export { issuerBindingIssues, type IssuerBindingIssue } from './issuer-binding.js';
