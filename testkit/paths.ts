// For tests: the checkout's root folder (a plain path; importing it starts nothing).
export { PROJECT_ROOT } from '../scripts/lib/child-process.ts';
