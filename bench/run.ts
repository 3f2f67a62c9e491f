// `npm run bench`: prints figures; it asserts nothing (speed is not a test on a shared 2-core machine).
import { printIngest, runIngestBench } from './ingest.ts';
import { printOutbox, runOutboxBench } from './outbox.ts';

const figures = await runIngestBench();
printIngest(figures);
printOutbox(await runOutboxBench());
