# syntax=docker/dockerfile:1
# The development IdP image (oidc-provider, infra/dev-idp; DEVELOPMENT ONLY: in-memory keys and
# sessions, http issuer). Build from the repository root: docker build -f infra/docker/dev-idp.Dockerfile -t gtb-dev-idp .
# It runs TypeScript through tsx, so unlike the service images it keeps tsx and the infra/dev-idp sources.
# oidc-provider is a dependency of the test workspace (test/package.json), hence that file in the build.

# Base image: node:24-bookworm-slim (Node 24 LTS on Debian 12), pinned by the digest of its multi-platform
# index (linux/amd64, arm64, ppc64le): the tag as published on 2026-08-25 with Node 24.19.0, as recorded in
# https://github.com/docker-library/repo-info/blob/master/repos/node/remote/24-bookworm-slim.md
# Both stages of all four Dockerfiles use the same digest. To move to the tag's current image, run
#   docker buildx imagetools inspect node:24-bookworm-slim     (the "Digest:" line)
# and replace the digest in every infra/docker/*.Dockerfile; Renovate's dockerfile manager and Dependabot's
# docker ecosystem recognise `image:tag@sha256:…` and open that change themselves.
FROM node:24-bookworm-slim@sha256:a9f5f7c91a432850b2a8a7797adf5eadb6c733ceed61167806cee7ea7fbc29df AS build
WORKDIR /src
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY shared ./shared
COPY services ./services
COPY test/package.json ./test/package.json
# --ignore-scripts: no dependency runs code at install time (the root `node` devDependency's preinstall
# would fetch a second Node, which only `npm test` uses; esbuild works without its postinstall check).
RUN npm ci --no-audit --no-fund --ignore-scripts
RUN npx turbo run build --filter=@gtb/logger... --filter=@gtb/errors...

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
COPY --chown=root:root infra/dev-idp ./infra/dev-idp
COPY --chown=root:root infra/docker/healthcheck.mjs ./healthcheck.mjs
USER node
ENV IDP_PORT=9200
EXPOSE 9200
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/healthcheck.mjs", "http://127.0.0.1:9200/.well-known/openid-configuration", "300"]
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "infra/dev-idp/main.ts"]
