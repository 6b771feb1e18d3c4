import { createRequire } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type Sampler, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { redisStatement } from './attributes.js';
import { RedactingSpanProcessor } from './redacting-processor.js';
import { enableServerSpans } from './server-spans.js';

export interface TracingOptions {
  /** `service.name` when `OTEL_SERVICE_NAME` (or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`) does not set it. */
  serviceName: string;
  /**
   * The service's own `require` (`createRequire(import.meta.url)`): the instrumented CommonJS
   * packages (express, ioredis) and node:http are required through it once the instrumentations
   * are on, so that they patch the very module objects the service's ESM imports share.
   */
  require?: NodeJS.Require;
  /** Replaces the exporters named by OTEL_TRACES_EXPORTER (tests: an in-memory exporter, exported at once). */
  exporter?: SpanExporter;
  /** Replaces the sampler of OTEL_TRACES_SAMPLER (tests). */
  sampler?: Sampler;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface RunningTracing {
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Flushes and stops; call when the process drains. */
  shutdown(): Promise<void>;
}

/** The exporters OTEL_TRACES_EXPORTER names (otlp with OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL, console). */
function exportersFromEnv(env: Readonly<Record<string, string | undefined>>): SpanExporter[] {
  const names = [...new Set((env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s && s !== 'none'))];
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  return names.map((name) => {
    if (name === 'console') return new ConsoleSpanExporter();
    if (name !== 'otlp') throw new Error(`OTEL_TRACES_EXPORTER: unsupported exporter ${JSON.stringify(name)} (otlp, console or none)`);
    // Each exporter reads the endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_* itself.
    if (protocol === 'grpc') return new OtlpGrpcExporter();
    if (protocol === 'http/json') return new OtlpJsonExporter();
    if (protocol === 'http/protobuf') return new OtlpProtoExporter();
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: unsupported protocol ${JSON.stringify(protocol)} (http/protobuf, http/json or grpc)`);
  });
}

/**
 * Starts the OpenTelemetry Node SDK for this process: the W3C trace-context propagator (or
 * OTEL_PROPAGATORS), the sampler of OTEL_TRACES_SAMPLER (parent-based always-on by default), the
 * resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, the server spans of `withServerSpans`
 * listeners, and the instrumentations of node:http (out), undici (fetch: the Genesys, IdP and broker calls), Express and ioredis. Metrics stay
 * Prometheus' and logs pino's: the SDK's metric and log pipelines are not started.
 *
 * No `--import` loader hook is needed: the packages instrumented are CommonJS (express, ioredis),
 * node built-ins (http, https) or publish on diagnostics channels (undici), so require-in-the-middle
 * patches them when they are required after start (done here through `options.require`) and the
 * service's ESM imports see the same, patched, module objects. `node dist/main.js` stays the command.
 */
export function startTracing(options: TracingOptions): RunningTracing {
  const env = options.env ?? process.env;
  const exporters = options.exporter ? [options.exporter] : exportersFromEnv(env);
  const spanProcessors: SpanProcessor[] = [
    new RedactingSpanProcessor(),
    ...exporters.map((e) => (options.exporter ? new SimpleSpanProcessor(e) : new BatchSpanProcessor(e))),
  ];
  const named = env.OTEL_SERVICE_NAME !== undefined || /(^|,)\s*service\.name=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = new NodeSDK({
    ...(named ? {} : { serviceName: options.serviceName }),
    spanProcessors,
    ...(options.sampler ? { sampler: options.sampler } : {}),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      // Outgoing requests only: a service's server spans come from its own listener (withServerSpans,
      // server-spans.ts), which does the attribute work only for spans that record.
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
      new UndiciInstrumentation(),
      new ExpressInstrumentation(),
      new IORedisInstrumentation({ dbStatementSerializer: redisStatement, requireParentSpan: true }),
    ],
  });
  sdk.start();
  enableServerSpans();
  const load = options.require ?? createRequire(import.meta.url);
  for (const id of ['node:http', 'node:https', 'express', 'ioredis']) {
    try {
      load(id);
    } catch {
      // a service that does not use the package
    }
  }
  let stopped: Promise<void> | undefined;
  return {
    async flush() {
      await Promise.all(spanProcessors.map((p) => p.forceFlush()));
    },
    shutdown() {
      enableServerSpans(false);
      stopped ??= sdk.shutdown().catch(() => undefined);
      return stopped;
    },
  };
}
