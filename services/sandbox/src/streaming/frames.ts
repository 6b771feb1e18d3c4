/** The JSON frames the streaming WebSocket carries, in Genesys' shapes. */

/** A notification event envelope; note the capital C in `CorrelationId`, as upstream. */
export interface EventFrame {
  topicName: string;
  version: '2';
  eventBody: Record<string, unknown>;
  metadata: { CorrelationId: string; type: 'message' };
}

/** Builds an event envelope. */
export function eventFrame(topicName: string, eventBody: Record<string, unknown>, correlationId: string): EventFrame {
  return { topicName, version: '2', eventBody, metadata: { CorrelationId: correlationId, type: 'message' } };
}

export const HEARTBEAT_FRAME = JSON.stringify({ topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });
export const PONG_FRAME = JSON.stringify({ topicName: 'channel.metadata', eventBody: { message: 'pong' } });

/** True when a client text frame is the Genesys application-level ping `{"message":"ping"}`. */
export function isPingFrame(data: string): boolean {
  try {
    const parsed: unknown = JSON.parse(data);
    return typeof parsed === 'object' && parsed !== null && (parsed as { message?: unknown }).message === 'ping';
  } catch {
    return false;
  }
}
