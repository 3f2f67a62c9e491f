// For tests: poll until a condition holds or a value is there, with a timeout that names what was awaited.
export { waitUntil } from '../scripts/lib/wait-until.ts';
