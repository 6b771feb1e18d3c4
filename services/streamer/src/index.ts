export { streamerConfigSchema, streamSchema, timingSchema, outputSchema, type StreamerConfig, type StreamConfig, type TimingConfig, type OutputConfig } from './config.js';
export { createStreamer, type Streamer, type StreamerDeps } from './app.js';
export { createOpsServer } from './http-server.js';
export { createIdpTokenSource, type IdpTokenOptions, type IdpTokenSource } from './idp-token.js';
export { parseFrame, type Frame } from './frame.js';
export type { Gap } from './gap-reporter.js';
export type { StreamerMetrics } from './metrics.js';
