import { context, trace, SpanStatusCode, SpanKind, type Attributes, type Link, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';

/** Attribute values our spans take; undefined ones are left out. */
export type SpanAttributes = Record<string, string | number | boolean | undefined>;

export interface SpanOptions {
  attributes?: SpanAttributes;
  /** Spans this one follows from (another replica's mint, the single-flight leader). */
  links?: readonly (SpanContext | undefined)[];
  kind?: SpanKind;
  /** A new trace rather than a child of the active span (background work a request only started). */
  root?: boolean;
  /** When the span began, epoch ms, if before now (a gap's start). */
  startTime?: number;
}

/** The tracer of one of our packages (`gtb.broker`, `gtb.streamer`): a no-op until an SDK is registered. */
export function tracerOf(scope: string): Tracer {
  return trace.getTracer(scope);
}

function clean(attributes: SpanAttributes | undefined): Attributes | undefined {
  if (!attributes) return undefined;
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) out[k] = v;
  return out;
}

function linksOf(links: SpanOptions['links']): Link[] | undefined {
  const valid = links?.filter((c): c is SpanContext => c !== undefined).map((c) => ({ context: c }));
  return valid && valid.length > 0 ? valid : undefined;
}

/** The stable code of an error (GtbError's `code`), never its message: messages may quote input. */
function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'ERR_INTERNAL';
}

/** Marks a span failed with the error's stable code. */
export function failSpan(span: Span, err: unknown): void {
  const code = codeOf(err);
  span.setAttribute('gtb.error.code', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/**
 * Runs `fn` in a new span, active for everything `fn` starts (Redis commands, HTTP calls, child
 * spans), and ends it when `fn` settles; a rejection marks the span failed with its code and is
 * rethrown. Without an SDK the tracer is a no-op and this costs a closure and a context switch.
 */
export async function inSpan<T>(tracer: Tracer, name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const links = linksOf(options.links);
  const attributes = clean(options.attributes);
  return tracer.startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.root ? { root: true } : {}), ...(attributes ? { attributes } : {}), ...(links ? { links } : {}) }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Starts a span the caller ends (for work that outlives one function: a socket, a rollover). */
export function startSpan(tracer: Tracer, name: string, options: SpanOptions = {}, parent?: Span): Span {
  const links = linksOf(options.links);
  const attributes = clean(options.attributes);
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  return tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.root ? { root: true } : {}), ...(options.startTime === undefined ? {} : { startTime: options.startTime }), ...(attributes ? { attributes } : {}), ...(links ? { links } : {}) }, ctx);
}

/** Sets attributes on the active span (an instrumentation's HTTP span, or ours); nothing when none. */
export function annotateActiveSpan(attributes: SpanAttributes): void {
  const span = trace.getActiveSpan();
  if (!span || !span.isRecording()) return;
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) span.setAttribute(k, v);
}

/** The active span's context, to hand to another process (ready message) or a later link. */
export function activeSpanContext(): SpanContext | undefined {
  return trace.getActiveSpan()?.spanContext();
}

/** Runs `fn` with `span` active (so what it starts is the span's child). */
export function withActiveSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

export { SpanKind, SpanStatusCode, type Span, type SpanContext, type Tracer };
