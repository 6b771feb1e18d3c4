# syntax=docker/dockerfile:1
# The development IdP image (oidc-provider through test/fixtures/idp; DEVELOPMENT ONLY: in-memory
# keys, http issuer). Build from the repository root: docker build -f infra/docker/dev-idp.Dockerfile -t gtb-dev-idp .
# It runs TypeScript through tsx, so unlike the service images it keeps tsx and the fixture sources.

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY shared ./shared
COPY services ./services
COPY test/package.json ./test/package.json
RUN npm ci --no-audit --no-fund
RUN npx turbo run build --filter=@gtb/logger... --filter=@gtb/errors...

FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./package.json
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/shared ./shared
COPY --chown=root:root test/fixtures/idp ./test/fixtures/idp
COPY --chown=root:root infra/dev-idp ./infra/dev-idp
COPY --chown=root:root infra/docker/healthcheck.mjs ./healthcheck.mjs
USER node
ENV IDP_PORT=9200
EXPOSE 9200
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/healthcheck.mjs", "http://127.0.0.1:9200/.well-known/openid-configuration", "300"]
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "infra/dev-idp/main.ts"]
