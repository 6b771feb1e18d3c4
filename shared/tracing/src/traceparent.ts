import { context, trace, TraceFlags, isSpanContextValid, type SpanContext } from '@opentelemetry/api';

/** W3C trace context `traceparent`, version 00: what CloudEvents' distributed-tracing extension carries. */
export const TRACEPARENT_PATTERN = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The `traceparent` of a span context, or undefined for an invalid one (no SDK: the no-op span's). */
export function traceparentOf(spanContext: SpanContext | undefined): string | undefined {
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/** The `traceparent` of the active span, or undefined when there is none (tracing off: always). */
export function currentTraceparent(): string | undefined {
  const span = trace.getSpan(context.active());
  return span ? traceparentOf(span.spanContext()) : undefined;
}

/** A remote span context from a `traceparent`, for a span link; undefined when malformed. */
export function spanContextOf(traceparent: unknown): SpanContext | undefined {
  if (typeof traceparent !== 'string' || !TRACEPARENT_PATTERN.test(traceparent)) return undefined;
  const [, traceId, spanId, flags] = traceparent.split('-') as [string, string, string, string];
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
}
