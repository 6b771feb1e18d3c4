export { streamerConfigSchema, type StreamerConfig } from './config.js';
