# syntax=docker/dockerfile:1
# The sandbox image. Build from the repository root: docker build -f infra/docker/sandbox.Dockerfile -t gtb-sandbox .
# Stage 1 installs every dependency and builds with turbo; stage 2 holds only the built output
# and the production dependencies, and runs as an unprivileged user.

FROM node:20-slim AS build
WORKDIR /src
ENV TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY shared ./shared
COPY services ./services
COPY test/package.json ./test/package.json
RUN npm ci --no-audit --no-fund
RUN npx turbo run build --filter=@gtb/sandbox...
# Production dependencies only, and no sources: the runtime stage copies what is left.
RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf shared/*/src shared/*/test services/*/src services/*/test

FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./package.json
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/shared ./shared
COPY --from=build --chown=root:root /src/services/sandbox ./services/sandbox
COPY --chown=root:root infra/docker/healthcheck.mjs ./healthcheck.mjs
# The files belong to root and the process runs as node (uid 1000): it cannot change its own code.
USER node
EXPOSE 4010
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/healthcheck.mjs", "http://127.0.0.1:4010/api/v2/tokens/me", "500"]
STOPSIGNAL SIGTERM
CMD ["node", "services/sandbox/dist/main.js"]
