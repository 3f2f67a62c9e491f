// Node-RED 4 settings of the IOC notification flows: what never changes between deployments. The deployment's
// own settings (flowFile, credentialSecret, userDir, host, port, log level) come from the environment through
// flows/env.ts and are set by flows/runtime.ts, which embeds Node-RED (run it as `node flows/main.js` /
// `tsx flows/main.ts`); the flows reach our TypeScript logic through `global.get('ioc')`, so Function nodes stay glue.
module.exports = {
  flowFilePretty: true,
  // The editor stays off: the flows are code (flows/flows.json in git), and no adminAuth is configured.
  httpAdminRoot: false,
  httpNodeRoot: '/',
  editorTheme: { projects: { enabled: false } },
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  functionExternalModules: false,
  functionGlobalContext: {},
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
};
