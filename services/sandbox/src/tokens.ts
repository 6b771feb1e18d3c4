import { newAccessToken } from './ids.js';
import { bump } from './counters.js';
import type { AccessToken, OAuthClient, SandboxState } from './state.js';
import { removeChannel } from './channels.js';

export type TokenCheck =
  | { status: 'valid'; token: AccessToken; client: OAuthClient }
  | { status: 'expired' | 'revoked' | 'unknown' };

/** Issues a token for a client and counts the mint. */
export function mintToken(state: SandboxState, client: OAuthClient): AccessToken {
  const issuedAt = state.options.now();
  const token: AccessToken = {
    token: newAccessToken(state.options.randomBytes),
    clientId: client.clientId,
    issuedAt,
    expiresAt: issuedAt + client.tokenLifetimeSeconds * 1000,
    revoked: false,
  };
  state.tokens.set(token.token, token);
  bump(state.counters.tokensMinted, client.clientId);
  return token;
}

/** Looks a bearer token up and says whether it may be used now. */
export function checkToken(state: SandboxState, value: string): TokenCheck {
  const token = state.tokens.get(value);
  if (!token) return { status: 'unknown' };
  if (token.revoked) return { status: 'revoked' };
  if (token.expiresAt <= state.options.now()) return { status: 'expired' };
  const client = state.clients.get(token.clientId);
  // A deleted client's tokens die with it, as a deactivated Genesys client's do.
  if (!client) return { status: 'revoked' };
  return { status: 'valid', token, client };
}

/**
 * Revokes a token. Channels it created get `v2.system.token_revoked` (when configured) and, when
 * configured, lose their socket and are removed: a revoked token's channel cannot be used again.
 */
export function revokeToken(state: SandboxState, token: AccessToken): void {
  if (token.revoked) return;
  token.revoked = true;
  state.counters.tokensRevoked += 1;
  const { sendTokenRevokedNotice, closeSocketOnTokenRevoked } = state.options;
  for (const channel of [...state.channels.values()]) {
    if (channel.token !== token.token) continue;
    if (sendTokenRevokedNotice) {
      state.sockets.sendSystem(channel.id, `v2.system.token_revoked.${channel.id}`, {
        channelId: channel.id,
        systemTopicType: 'token_revoked',
        oauthClientId: token.clientId,
        reason: 'user_tokens_revoked',
        message: 'The access token used to create this channel was revoked',
      });
    }
    if (closeSocketOnTokenRevoked) {
      state.sockets.closeNow(channel.id, 1000, 'Token expired or invalid');
      removeChannel(state, channel.id);
    }
  }
}

/** Revokes every live token of a client; returns how many. */
export function revokeClientTokens(state: SandboxState, clientId: string): number {
  let n = 0;
  for (const token of state.tokens.values()) {
    if (token.clientId === clientId && !token.revoked) {
      revokeToken(state, token);
      n += 1;
    }
  }
  return n;
}

/** Bumps a per-client counter of rejected token requests. */
export function countRejected(state: SandboxState, clientId: string): void {
  bump(state.counters.tokenRequestsRejected, clientId);
}
