# syntax=docker/dockerfile:1
# One twopc node per container, running the compiled JavaScript in dist/ (no tsx).
#
#   docker build -t twopc .
#   head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > twopc.secret
#   docker run -v twopc-data:/data -v "$PWD/twopc.secret:/run/secrets/twopc_secret:ro" \
#     -e TWOPC_ADDR=db1.example.net:8081 -e TWOPC_SECRET_FILE=/run/secrets/twopc_secret \
#     -p 8081:8081 twopc start-node --bind 0.0.0.0 --data-dir /data \
#     --peers db2.example.net:8081,db3.example.net:8081
#
# The default command listens on every interface of the container (--bind 0.0.0.0) and is
# known in the membership by TWOPC_ADDR, the name the other nodes reach it by (never 0.0.0.0).
# Listening off loopback needs the cluster secret (TWOPC_SECRET_FILE or TWOPC_SECRET): without
# it the node refuses to start, exit 2, naming the secret. Any other command works too
# (`docker run twopc status --nodes …`); compose.yaml runs three nodes as one cluster.

FROM node:20-bookworm-slim AS build
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
# MALLOC_*: node_malloc_env of lib/util/node-heap.ts (keep them equal).
ENV NODE_ENV=production \
    TWOPC_LOG_LEVEL=info \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=1048576
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json ./
COPY bin ./bin
# The node image's unprivileged user (uid 1000) owns the data volume; nothing runs as root.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8081
# Serving or not, asked the way a client asks: signed with the secret, of the node TWOPC_ADDR names.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "bin/twopc.mjs", "health"]
ENTRYPOINT ["node", "--max-semi-space-size=2", "--max-old-space-size=1024", "bin/twopc.mjs"]
CMD ["start-node", "--bind", "0.0.0.0", "--data-dir", "/data"]
