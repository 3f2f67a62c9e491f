// For tests: the project's programs and servers as guarded child processes (own process group, dead with
// their starter, recorded in the suite's child log), the same code the demo and the benchmarks start them with.
export { CHILD_LOG_ENV, ManagedProcess, PROJECT_ROOT, onPath, runProgram, spawnGuarded, startProgram, startTsEntry } from '../scripts/lib/child-process.ts';
