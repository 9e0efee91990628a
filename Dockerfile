# The single fleetchat image: `fleetchat <command>` runs any component (controller, gateway, worker, operator)
# or job. Build: docker build -t ghcr.io/fleetchat/fleetchat:0.1.0 .
# Multi-stage: compile in a full Node image (native modules may need a compiler), run from a slim one as a
# non-root user (uid 10001, which the Helm chart and the operator's pod specs also use).

FROM node:20-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits reuse this layer.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY scripts ./scripts
COPY bench ./bench
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOME=/home/fleetchat
RUN groupadd --gid 10001 fleetchat \
 && useradd --uid 10001 --gid 10001 --home-dir /home/fleetchat --create-home --shell /usr/sbin/nologin fleetchat \
 && mkdir -p /var/cache/fleetchat /data \
 && chown 10001:10001 /var/cache/fleetchat /data
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Data files read at run time (judge prompts and MT-bench questions).
COPY --from=build /src/src/jobs/judge/data ./src/jobs/judge/data
USER 10001:10001
# Worker gRPC + metrics, controller gRPC + metrics, gateway HTTP, operator metrics.
EXPOSE 21011 21012 21001 21002 8000 8080
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
