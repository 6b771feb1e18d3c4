/** Topic names, permission patterns and subscription matching. */

// `v2.` then dot-separated segments; optionally the combined form `v2.users.<id>?presence&routingStatus`.
const TOPIC_RE = /^v2(\.[A-Za-z0-9_-]+)+(\?[A-Za-z0-9_-]+(&[A-Za-z0-9_-]+)*)?$/;
export const MAX_TOPIC_LENGTH = 500;
/** Genesys' documented topic cap per channel, the default of `maxTopicsPerChannel`. */
export const MAX_TOPICS_PER_CHANNEL = 1000;

/** True when `topic` is a syntactically valid notification topic. */
export function isValidTopic(topic: unknown): topic is string {
  return typeof topic === 'string' && topic.length <= MAX_TOPIC_LENGTH && TOPIC_RE.test(topic);
}

/** The plain topics a subscription stands for: a combined topic expands to one per suffix. */
export function expandTopic(subscription: string): string[] {
  const q = subscription.indexOf('?');
  if (q < 0) return [subscription];
  const base = subscription.slice(0, q);
  return subscription.slice(q + 1).split('&').map((suffix) => `${base}.${suffix}`);
}

/** True when `topic` matches a permission pattern, where `*` matches any run of characters. */
export function matchesPattern(pattern: string, topic: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRe).join('.*')}$`);
  return re.test(topic);
}

/** True when every topic a subscription expands to is allowed by one of `patterns`. */
export function isTopicAllowed(patterns: readonly string[], subscription: string): boolean {
  return expandTopic(subscription).every((t) => patterns.some((p) => matchesPattern(p, t)));
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
