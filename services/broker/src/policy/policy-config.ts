import { z } from 'zod';

/** One value or a list of values, any of which matches. */
const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const nonEmptyList = z.array(z.string().min(1)).min(1);

/** What an identity must look like for a rule to apply; every given field must hold. */
export const ruleMatchSchema = z
  .strictObject({
    issuer: oneOrMany.optional(),
    subject: oneOrMany.optional(),
    clientId: oneOrMany.optional(),
    groupsAny: nonEmptyList.optional(),
    rolesAny: nonEmptyList.optional(),
    scopesAll: nonEmptyList.optional(),
  })
  .superRefine((match, ctx) => {
    if (Object.values(match).every((v) => v === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a rule must match on at least one field (an empty match would admit everyone)' });
    }
    // A subject or client id is only unique within its issuer: two IdPs may both have a "svc-1".
    if ((match.subject !== undefined || match.clientId !== undefined) && match.issuer === undefined) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'subject and clientId need issuer alongside' });
    }
  });

/** One access rule: who (`match`) may use which Genesys profiles, and whether they are admins. */
export const policyRuleSchema = z
  .strictObject({
    name: z.string().min(1).max(100),
    match: ruleMatchSchema,
    /** Profile names, or `*` for all. */
    profiles: z.array(z.string().min(1)).default([]),
    admin: z.boolean().default(false),
  })
  .refine((rule) => rule.profiles.length > 0 || rule.admin, { message: 'a rule must grant profiles or admin', path: ['profiles'] });

/** The access policy: ordered rules, first match wins, default deny. */
export const policyConfigSchema = z
  .strictObject({ rules: z.array(policyRuleSchema).default([]) })
  .superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.rules.forEach((rule, i) => {
      if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name ${rule.name}` });
      seen.add(rule.name);
    });
  });

export type PolicyConfig = z.output<typeof policyConfigSchema>;
export type PolicyConfigInput = z.input<typeof policyConfigSchema>;
export type PolicyRule = z.output<typeof policyRuleSchema>;
export type RuleMatch = z.output<typeof ruleMatchSchema>;
