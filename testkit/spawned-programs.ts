// For test/os-programs.test.ts: the scanner that finds every program the code, the demo and the tests start.
export { problemsOf, scanNodeRedFlows, scanPackageScripts, scanSources, type SourceText, type SpawnSite } from '../scripts/lib/spawned-programs.ts';
