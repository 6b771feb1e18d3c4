export { EVENT_DATA_SCHEMAS, EVENT_TYPES, isEventType, subjectField, type EventType, type EventData } from './event-data.js';
export { CLOUD_EVENT_SCHEMAS, cloudEventSchema, parseEvent, eventSource, SOURCE_PATTERN, type CloudEvent, type AnyCloudEvent } from './cloud-event.js';
export { findSecretLike, secretLikeReason } from './secret-check.js';
export { createEventPublisher, type EventPublisher, type EventPublisherOptions } from './event-publisher.js';
export { createEventSubscriber, type EventSubscriber, type EventSubscriberOptions } from './event-subscriber.js';
export { createEventFilter } from './event-filter.js';
export { readEvents, rangeStart, rangeEnd, type ReadEventsOptions, type StoredEvent, type Since } from './read-events.js';
