export { tracerOf, inSpan, startSpan, failSpan, annotateActiveSpan, activeSpanContext, withActiveSpan, SpanKind, SpanStatusCode, type Span, type SpanAttributes, type SpanContext, type SpanOptions, type Tracer } from './spans.js';
export { TRACEPARENT_PATTERN, traceparentOf, currentTraceparent, spanContextOf } from './traceparent.js';
export { scrubAttribute, scrubUrl, redisStatement, REDACTED } from './attributes.js';
export { tracingWanted } from './wanted.js';
export { withServerSpans, SERVER_SPAN_SCOPE } from './server-spans.js';
