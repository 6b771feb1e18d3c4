# syntax=docker/dockerfile:1
# The broker image. Build from the repository root: docker build -f infra/docker/broker.Dockerfile -t gtb-broker .
# Stage 1 installs every dependency and builds with turbo; stage 2 holds only the built output
# and the production dependencies, and runs as an unprivileged user.

# Base image: node:24-bookworm-slim (Node 24 LTS on Debian 12), pinned by the digest of its multi-platform
# index (linux/amd64, arm64, ppc64le): the tag as published on 2026-08-25 with Node 24.19.0, as recorded in
# https://github.com/docker-library/repo-info/blob/master/repos/node/remote/24-bookworm-slim.md
# Both stages of all four Dockerfiles use the same digest. To move to the tag's current image, run
#   docker buildx imagetools inspect node:24-bookworm-slim     (the "Digest:" line)
# and replace the digest in every infra/docker/*.Dockerfile; Renovate's dockerfile manager and Dependabot's
# docker ecosystem recognise `image:tag@sha256:…` and open that change themselves.
FROM node:24-bookworm-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df AS build
WORKDIR /src
ENV TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY shared ./shared
COPY services ./services
COPY test/package.json ./test/package.json
# --ignore-scripts: no dependency runs code at install time (the root `node` devDependency's preinstall
# would fetch a second Node, which only `npm test` uses; esbuild works without its postinstall check).
RUN npm ci --no-audit --no-fund --ignore-scripts
RUN npx turbo run build --filter=@gtb/broker...
# Production dependencies only, and no sources: the runtime stage copies what is left.
RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf shared/*/src shared/*/test services/*/src services/*/test

FROM node:24-bookworm-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df AS runtime
# No package manager at run time: the base image's npm, npx, corepack and yarn are removed (nothing
# is installed at run time, and each is code an attacker in the container could use).
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-v*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./package.json
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/shared ./shared
COPY --from=build --chown=root:root /src/services/broker ./services/broker
COPY --chown=root:root infra/docker/healthcheck.mjs ./healthcheck.mjs
# The files belong to root and the process runs as node (uid 1000): it cannot change its own code.
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/healthcheck.mjs", "http://127.0.0.1:8080/healthz", "300"]
STOPSIGNAL SIGTERM
# The Node flags, written here and nowhere else (infra/docker/broker-runtime.ts reads them for `npm start`
# and the benchmark; Kubernetes and compose run this CMD as it is). They bound the broker's RSS around its
# 20 MiB live heap, at a CPU cost (test/bench/README.md, issue 15; runbook): --max-semi-space-size=1 caps the young generation at
# 2 × 1 MiB (Node 24's default grows to 2 × 64 MiB under load), and --max-old-space-size=256 makes V8
# grow the old generation by ~1.3 × the live heap before collecting, not ~4 × (and is a ceiling well
# inside the pod's 512 MiB limit). On the command line rather than in NODE_OPTIONS: the command line
# wins over a NODE_OPTIONS set by a deployment (checked on Node 20 and 24).
CMD ["node", "--max-semi-space-size=1", "--max-old-space-size=256", "services/broker/dist/main.js"]
