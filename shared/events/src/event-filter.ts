import { GtbError } from '@gtb/errors';
import { NAME_PATTERN } from '@gtb/redis';
import type { AnyCloudEvent } from './cloud-event.js';
import { EVENT_TYPES, isEventType } from './event-data.js';

const GROUPS = new Set(EVENT_TYPES.map((t) => t.split('.')[0]));

/**
 * A predicate over events from `types` (exact names, `<group>.*` such as `token.*`, or `*`) and
 * `subjects` (exact profile or stream names). An absent list matches everything. Unknown types
 * are refused at once (ERR_CONFIG_INVALID) so that a typo does not silently match nothing.
 */
export function createEventFilter(types?: readonly string[], subjects?: readonly string[]): (event: AnyCloudEvent) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  let all = types === undefined;
  for (const type of types ?? []) {
    if (type === '*') all = true;
    else if (type.endsWith('.*') && GROUPS.has(type.slice(0, -2))) prefixes.push(type.slice(0, -1));
    else if (isEventType(type)) exact.add(type);
    else throw new GtbError('ERR_CONFIG_INVALID', `option "types": ${JSON.stringify(type.slice(0, 64))} is not a lifecycle event type or <group>.*`);
  }
  for (const subject of subjects ?? []) {
    if (!NAME_PATTERN.test(subject)) throw new GtbError('ERR_CONFIG_INVALID', `option "subjects": ${JSON.stringify(subject.slice(0, 64))} is not a profile or stream name`);
  }
  const subjectSet = subjects === undefined ? undefined : new Set(subjects);
  return (event) =>
    (all || exact.has(event.type) || prefixes.some((p) => event.type.startsWith(p))) &&
    (subjectSet === undefined || subjectSet.has(event.subject));
}
