// Node-RED 4 settings of the IOC notification flows. Everything deployment-specific comes from the environment.
// The flows reach our TypeScript logic through `global.get('ioc')`, which flows/runtime.ts supplies
// (run Node-RED through it: `tsx flows/main.ts`), so Function nodes stay glue.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED loads settings as CommonJS
const path = require('node:path');

module.exports = {
  flowFile: process.env.IOC_NR_FLOW_FILE || path.join(__dirname, 'flows.json'),
  flowFilePretty: true,
  // Encrypts flows_cred.json; required (Node-RED would otherwise invent one and keep it in userDir).
  credentialSecret: process.env.IOC_NR_CREDENTIAL_SECRET,
  userDir: process.env.IOC_NR_USER_DIR || path.join(__dirname, '.node-red'),
  uiHost: process.env.IOC_NR_HOST || '127.0.0.1',
  uiPort: Number(process.env.IOC_NR_PORT || 1880),
  // The editor only where asked for (IOC_NR_ADMIN_ROOT=/admin); the technician page is at /alerts.
  httpAdminRoot: process.env.IOC_NR_ADMIN_ROOT || false,
  httpNodeRoot: '/',
  logging: { console: { level: process.env.IOC_NR_LOG_LEVEL || 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false } },
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  functionExternalModules: false,
  functionGlobalContext: {},
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
};
