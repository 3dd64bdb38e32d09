# keda-otlp-scaler: a KEDA external scaler fed by OTLP metrics.
#   docker build -t keda-otlp-scaler .
# Without a Docker engine, scripts/build-image.sh builds this file with buildah on a Node base
# image it makes locally (NODE_IMAGE).
#
# The image holds the node binary, the C libraries it links, the compiled scaler and its
# production dependencies: no shell, no npm, no package manager, no build tools.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY proto ./proto
COPY web ./web
# Only src/ ships, so only src/ is compiled: a test or benchmark cannot break the image build.
RUN printf '{"extends":"./tsconfig.json","compilerOptions":{"sourceMap":false},"include":["src"]}\n' > tsconfig.image.json \
 && npx tsc -p tsconfig.image.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Type declarations, source maps, TypeScript sources, docs and packages' own tests are never
# loaded at run time; they are a third of node_modules.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/@types \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
      -o -name '*.md' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' \) -delete \
 && find node_modules -type d \( -name test -o -name tests -o -name __tests__ -o -name docs -o -name .github \) -prune -exec rm -rf {} +

# A root filesystem of node and the shared libraries it needs (as ldd lists them), a user to run as.
FROM ${NODE_IMAGE} AS runtime-root
RUN mkdir -p /rootfs/usr/local/bin /rootfs/etc /rootfs/tmp \
 && cp /usr/local/bin/node /rootfs/usr/local/bin/node \
 && for lib in $(ldd /usr/local/bin/node | grep -o '/[^ ]*'); do cp --parents -L "$lib" /rootfs; done \
 && echo 'scaler:x:10001:10001::/app:/nonexistent' > /rootfs/etc/passwd \
 && echo 'scaler:x:10001:' > /rootfs/etc/group \
 && chmod 1777 /rootfs/tmp

FROM scratch
COPY --from=runtime-root /rootfs /
ENV NODE_ENV=production PATH=/usr/local/bin
WORKDIR /app
# package.json marks the project root: the scaler finds proto/ and web/ beside it at run time.
COPY package.json ./
COPY proto ./proto
COPY web ./web
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
USER 10001:10001
# 4317 gRPC (OTLP, KEDA scaler, health), 4318 OTLP/HTTP and the same gRPC, 9090 HTTP API and probes.
EXPOSE 4317 4318 9090
# An entrypoint rather than a command, so flags given as arguments (the chart's extraArgs,
# `docker run IMAGE --log-level=debug`) reach the scaler.
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/src/main.js"]
