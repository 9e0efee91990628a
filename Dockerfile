# The single fleetchat image: `fleetchat <command>` runs any component (controller, gateway, worker, operator)
# or job. Build: docker build -t ghcr.io/fleetchat/fleetchat:0.1.0 .
# GPU workers: docker build --target gpu -t ghcr.io/fleetchat/fleetchat:0.1.0-gpu . (the same image plus the CUDA
# execution provider, the CUDA 13 libraries from PyPI and the ort_device addon; see scripts/install-gpu-runtime).
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
COPY native ./native
COPY bench ./bench
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# GPU runtime: pinned PyPI wheels checked by sha256, provider libraries beside the onnxruntime binding, CUDA
# libraries in /opt/fleetchat/gpu-runtime/lib, the ort_device addon built with this stage's compiler.
FROM build AS gpu-build
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
ENV FLEETCHAT_GPU_RUNTIME=/opt/fleetchat/gpu-runtime
RUN scripts/install-gpu-runtime

FROM node:20-bookworm-slim AS gpu
ENV NODE_ENV=production \
    HOME=/home/fleetchat \
    FLEETCHAT_GPU_RUNTIME=/opt/fleetchat/gpu-runtime \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
RUN groupadd --gid 10001 fleetchat \
 && useradd --uid 10001 --gid 10001 --home-dir /home/fleetchat --create-home --shell /usr/sbin/nologin fleetchat \
 && mkdir -p /var/cache/fleetchat /data \
 && chown 10001:10001 /var/cache/fleetchat /data
WORKDIR /app
COPY --from=gpu-build /src/package.json ./package.json
COPY --from=gpu-build /src/node_modules ./node_modules
COPY --from=gpu-build /src/dist ./dist
COPY --from=gpu-build /opt/fleetchat/gpu-runtime /opt/fleetchat/gpu-runtime
COPY --from=gpu-build /src/src/jobs/judge/data ./src/jobs/judge/data
USER 10001:10001
EXPOSE 21011 21012
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["worker", "--device", "cuda"]

# The default image (CPU), last so that a plain `docker build .` builds it.
FROM node:20-bookworm-slim AS cpu
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
# Worker gRPC + metrics, controller gRPC + metrics, gateway HTTP + public gRPC, operator metrics.
EXPOSE 21011 21012 21001 21002 8000 8001 8080
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
