# syntax=docker/dockerfile:1
# kansui as a container (issue 15): compiled once in a build stage, run as the
# unprivileged `node` user with production dependencies only. Node 24 is the
# Active LTS line (22 also works: set NODE_VERSION=22). Not built by the test
# suite (no container engine on the build machines): the tests run the same
# compiled dist/ with `node dist/services/main.js` (test/integration/main-process.test.ts).
ARG NODE_VERSION=24

# --- build: all dependencies, TypeScript → dist/
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 compiles from source when no prebuilt binary matches (shared/NOTES.md).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY services ./services
COPY firmware-sim ./firmware-sim
COPY web ./web
RUN npm run build

# --- production dependencies only (native modules built here, not in the runtime image)
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /opt/kansui
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/var/lib/kansui \
    HTTP_PORT=8080 \
    MQTT_PORT=1883
WORKDIR /opt/kansui
COPY --from=deps /opt/kansui/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json package-lock.json ./
# The `kansui` CLI (sensor add/rotate, users): runs dist/ when there are no sources.
COPY bin ./bin
RUN mkdir -p /var/lib/kansui && chown node:node /var/lib/kansui
USER node
VOLUME ["/var/lib/kansui"]
EXPOSE 8080 1883
# /healthz answers 200 with store, broker and HTTP checks (docs/operations.md).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# kansui drains in-flight readings on SIGTERM and exits 0 (compose: stop_grace_period 30s).
STOPSIGNAL SIGTERM
# The same command as `npm start` (test/unit/deploy-files.test.ts keeps them equal).
CMD ["node", "--heap-growing-percent=50", "dist/services/main.js"]
