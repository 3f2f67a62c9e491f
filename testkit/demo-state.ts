// For tests of the demo: where it keeps its state.
export { demoStateDir } from '../scripts/lib/demo-state.ts';
