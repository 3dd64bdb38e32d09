# keda-otlp-scaler: a KEDA external scaler fed by OTLP metrics.
#   docker build -t keda-otlp-scaler .
# Without a Docker engine, scripts/build-image.sh builds this file with buildah on a Node base
# image it makes locally (NODE_IMAGE).
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
RUN printf '{"extends":"./tsconfig.json","include":["src"]}\n' > tsconfig.image.json \
 && npx tsc -p tsconfig.image.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
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
ENTRYPOINT ["node", "/app/dist/src/main.js"]
