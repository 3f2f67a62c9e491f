// The contract shared by edge and hub: topics, payload schemas, measurement names. No I/O here.
export * from './topics.ts';
export * from './measurements.ts';
export * from './schemas.ts';
export * from './decode.ts';
export * from './contract.ts';
