import type { EventPublisher } from '@gtb/events';
import type { TokenEventData, TokenEventType } from './tokens/index.js';

/**
 * Maps the token service's observer events onto the lifecycle event schemas of @gtb/events and
 * publishes them without ever failing the caller (a lost event is logged by the publisher).
 */
export function publishTokenEvent(events: EventPublisher, type: TokenEventType, data: TokenEventData): void {
  const { profile } = data;
  switch (type) {
    case 'token.minted':
    case 'token.rotated':
      if (!data.fingerprint || !data.expiresAt) return;
      void events.tryPublish(type, profile, {
        profile, fingerprint: data.fingerprint, expiresAt: data.expiresAt,
        ...(data.previousFingerprint ? { previousFingerprint: data.previousFingerprint } : {}),
      });
      return;
    case 'token.revoked':
      void events.tryPublish(type, profile, { profile, ...(data.fingerprint ? { fingerprint: data.fingerprint } : {}) });
      return;
    case 'token.mint_failed':
      void events.tryPublish(type, profile, { profile, code: data.error ?? 'ERR_INTERNAL', message: `token request for ${profile} failed (${data.error ?? 'unknown error'})` });
      return;
    case 'token.rate_limited':
      void events.tryPublish(type, profile, { profile, retryAfterSeconds: data.retryAfter ?? 0 });
      return;
  }
}
