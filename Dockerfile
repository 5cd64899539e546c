# syntax=docker/dockerfile:1
# One twopc node per container. Build: docker build -t twopc .
# Run: docker run -v twopc-data:/data -e TWOPC_SECRET=… twopc start-node --addr node1:8081 --peers …
# (every flag of `twopc start-node` works, or --config FILE with a mounted JSON file).
# compose.yaml runs three of them as one cluster.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary fits this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json cli.ts ./
COPY lib ./lib
COPY workers ./workers
# npm ci compiles the TypeScript into dist/ (the prepare script); then the dev tools go.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    TWOPC_LOG_LEVEL=info
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/dist ./dist
COPY package.json package-lock.json ./
COPY bin ./bin
# The node image's unprivileged user (uid 1000) owns the data volume; nothing runs as root.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8081
ENTRYPOINT ["node", "bin/twopc.mjs"]
CMD ["start-node", "--addr", "0.0.0.0:8081", "--data-dir", "/data"]
