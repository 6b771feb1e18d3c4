/**
 * The hit path's route: `GET /v1/tokens/{profile}`, answered by routes/tokens.ts and, ahead of
 * the middleware stack, by http/token-fast-path.ts.
 */
export const TOKEN_ROUTE = '/v1/tokens/:profile';
