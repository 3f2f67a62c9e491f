# The IOC hub image: dependencies installed in a build stage, run as the unprivileged `node` user.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY protocol ./protocol
COPY hub ./hub
COPY flows ./flows
COPY bin ./bin
COPY data ./data
RUN mkdir -p /var/lib/ioc-hub && chown node:node /var/lib/ioc-hub
USER node
EXPOSE 1883 8883 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/ioc-hub.js"]
CMD ["start", "--config", "/etc/ioc-hub/hub.yaml"]
