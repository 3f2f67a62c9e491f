# The IOC hub image (also runs the Node-RED flows: flows/main.js). The build stage installs every dependency
# and compiles the TypeScript to JavaScript (npm run build → dist/); the deps stage installs the production
# dependencies alone, without the optional ones: those are the agent's (serialport), Node-RED's native
# bcrypt (it falls back to bcryptjs) and TypeScript, an optional peer of a Node-RED dependency; the final
# stage holds the compiled hub, journal, protocol, common and flows, those dependencies and the launcher, and runs as
# the unprivileged `node` user. test/image.test.ts assembles exactly these files and starts them.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY common ./common
COPY protocol ./protocol
COPY journal ./journal
COPY edge ./edge
COPY hub ./hub
COPY flows ./flows
COPY console ./console
COPY vite.config.ts ./
COPY scripts/build-console.mjs ./scripts/
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts
# better-sqlite3 (the registry and the console's logins) is a native addon: its install script, skipped above with
# every other, is run for it alone. It fetches the prebuilt binary for this platform (linux x64/arm64) from the
# project's releases; where that cannot be reached it compiles with node-gyp, which needs python3, make and g++.
RUN npm rebuild better-sqlite3

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist/common ./common
COPY --from=build /app/dist/protocol ./protocol
COPY --from=build /app/dist/journal ./journal
COPY --from=build /app/dist/hub ./hub
COPY --from=build /app/dist/flows ./flows
# The web console (Vite's build of console/), served by the hub on its HTTP port.
COPY --from=build /app/dist/console ./dist/console
# Read at run time beside the compiled code: the Node-RED flow and settings, the sample alert rules that
# hub/samples/hub.yaml names (relative to /app), the commune lists for `ioc-hub sites import`.
COPY flows/flows.json flows/settings.cjs ./flows/
COPY hub/alerts/samples ./hub/alerts/samples
COPY data ./data
COPY bin/ioc-hub.js ./bin/
RUN mkdir -p /var/lib/ioc-hub && chown node:node /var/lib/ioc-hub
USER node
EXPOSE 1883 8883 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/ioc-hub.js"]
CMD ["start", "--config", "/etc/ioc-hub/hub.yaml"]
