export { createApp, type AppOptions, type BrokerApp } from './app.js';
export { startBroker, type BrokerOptions, type RunningBroker } from './compose.js';
export { brokerConfigSchema, loadBrokerConfig, type BrokerConfig } from './config.js';
export { openApiDocument } from './openapi.js';
