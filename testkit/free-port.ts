// For tests: a free TCP port on 127.0.0.1 (the one the demo and the benchmarks use too).
export { freePort } from '../scripts/lib/free-port.ts';
