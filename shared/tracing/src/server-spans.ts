/**
 * The server span of each incoming HTTP request, opened by the service's own request listener
 * instead of `@opentelemetry/instrumentation-http`'s incoming side (the SDK turns that side off).
 *
 * Why we write it ourselves: the instrumentation does its whole per-request work (request
 * attributes with URL and header parsing, header capture, listeners and attributes again at the
 * end) for every request, sampled or not. On the broker's hit path that was ~30 µs of CPU per
 * answer for spans nobody records (test/bench/README.md, "Tracing"), so an operator sampling 1 %
 * paid nearly the full price of tracing everything. Here an unsampled request costs its sampling
 * decision, its context and the binding of the request and response to it, and nothing else; the
 * attributes are built only for a span that records.
 *
 * What stays as the instrumentation did it: a caller's `traceparent` (any configured propagator) is
 * the parent, the span is the active span for the whole request (the request's and the response's
 * listeners run in its context, so a full-path request's spans are its children and parent-based
 * sampling stays consistent), Express names the route through the RPC metadata
 * (`GET /v1/tokens/:profile`), the status code is recorded when the response closes, a 5xx or a
 * connection closed before the answer marks the span as an error, and the probes are left out.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { RPCType, setRPCMetadata, type RPCMetadata } from '@opentelemetry/core';
import { tracerOf } from './spans.js';

let enabled = false;

/** Turned on by `startTracing` (sdk.ts); until then `withServerSpans` listeners only call through. */
export function enableServerSpans(on = true): void {
  enabled = on;
}

/** Probes and scrapes are not the story; they stay out of the traces. */
const QUIET = /^\/(healthz|readyz|metrics)(\?|$)/;
/** The instrumentation scope the spans carry. */
export const SERVER_SPAN_SCOPE = 'gtb.http.server';
// Taken once: the API's proxy tracer finds the SDK's tracer when the SDK starts, and keeps it.
const tracer = tracerOf(SERVER_SPAN_SCOPE);

/**
 * `listener` with a server span around each request once tracing is started; `listener` itself
 * (one boolean read per request) while it is not.
 */
export function withServerSpans(listener: RequestListener): RequestListener {
  return (req, res) => {
    if (!enabled || QUIET.test(req.url ?? '')) {
      listener(req, res);
      return;
    }
    const method = req.method ?? 'GET';
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent);
    const rpc: RPCMetadata = { type: RPCType.HTTP, span };
    const ctx = setRPCMetadata(trace.setSpan(parent, span), rpc);
    if (span.isRecording()) {
      span.setAttributes(requestAttributes(req));
      res.once('close', () => endServerSpan(span, method, rpc, res));
    }
    context.with(ctx, () => {
      context.bind(ctx, req);
      context.bind(ctx, res);
      listener(req, res);
    });
  };
}

/** The stable HTTP semantic conventions' request attributes (URLs are scrubbed again by the redacting processor). */
function requestAttributes(req: IncomingMessage): Attributes {
  const url = req.url ?? '/';
  const cut = url.search(/[?#]/);
  const attributes: Attributes = {
    'url.scheme': (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
    'url.path': cut < 0 ? url : url.slice(0, cut),
    'network.protocol.version': req.httpVersion,
  };
  const host = /^(\[[^\]]*\]|[^:]+)(?::(\d+))?$/.exec(req.headers.host ?? '');
  if (host) {
    attributes['server.address'] = host[1]!.replace(/^\[(.*)\]$/, '$1'); // an IPv6 literal without its brackets
    if (host[2] !== undefined) attributes['server.port'] = Number(host[2]);
  }
  if (req.socket.remoteAddress !== undefined) attributes['network.peer.address'] = req.socket.remoteAddress;
  if (req.socket.remotePort !== undefined) attributes['network.peer.port'] = req.socket.remotePort;
  const agent = req.headers['user-agent'];
  if (agent !== undefined) attributes['user_agent.original'] = agent;
  return attributes;
}

function endServerSpan(span: Span, method: string, rpc: RPCMetadata, res: ServerResponse): void {
  span.setAttribute('http.response.status_code', res.statusCode);
  if (rpc.route !== undefined) {
    span.setAttribute('http.route', rpc.route);
    span.updateName(`${method} ${rpc.route}`);
  }
  if (!res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the connection closed before the answer was sent' });
  else if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
