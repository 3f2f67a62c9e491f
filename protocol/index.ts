// The contract shared by edge and hub: topics, payload schemas, measurement names. No I/O here.
export * from './topics.ts';
export * from './measurements.ts';
export * from './schemas.ts';
export { encodeBatch, isEpochMs, maxPointsBytes, MAX_BACKLOG_DEPTH, MAX_ENVELOPE_BYTES, MAX_SEQ, type BatchBacklog, type BatchEnvelope } from './envelope.ts';
export * from './decode.ts';
export * from './contract.ts';
export * from './edge-config.ts';
export * from './diagnostics.ts';
export * from './release.ts';
