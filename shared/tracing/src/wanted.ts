/**
 * Whether the process should start the OpenTelemetry SDK. Tracing is off by default: on only when
 * `OTEL_TRACES_EXPORTER` names an exporter (not `none`) and `OTEL_SDK_DISABLED` is not `true`. The
 * specification's default exporter is `otlp`; ours is none, so that a process nobody set up for
 * tracing never tries to reach a collector. Every other OTEL_* variable (service name, endpoint,
 * protocol, headers, sampler, propagators, resource attributes) has its standard meaning.
 */
export function tracingWanted(env: Readonly<Record<string, string | undefined>>): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  return exporters.length > 0 && !exporters.every((e) => e === 'none');
}
