import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { scrubAttribute } from './attributes.js';

/**
 * Rewrites every attribute of a span as it ends, before any exporter's processor sees it (it is
 * registered first): URLs lose their query and capability segments, credential-looking strings
 * become `[redacted]` (attributes.ts). Ours never carry such values; the instrumentations' URLs can
 * (a channel's subscriptions URL, the WebSocket's connect URI, the console's `?code=` callback).
 */
export class RedactingSpanProcessor implements SpanProcessor {
  onStart(_span: Span, _parentContext: Context): void {}

  onEnding(span: Span): void {
    for (const [key, value] of Object.entries(span.attributes)) {
      const scrubbed = scrubAttribute(key, value);
      if (scrubbed !== value && !(Array.isArray(value) && JSON.stringify(scrubbed) === JSON.stringify(value))) {
        span.setAttribute(key, scrubbed as string);
      }
    }
    for (const event of span.events) {
      if (!event.attributes) continue;
      for (const [key, value] of Object.entries(event.attributes)) event.attributes[key] = scrubAttribute(key, value) as string;
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
