// For tests: a Prometheus text exposition (`/metrics`) read into name{labels} → value.
export { parsePromText } from '../scripts/lib/prom-text.ts';
