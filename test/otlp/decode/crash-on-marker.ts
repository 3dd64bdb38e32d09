import { parentPort } from 'node:worker_threads';
import type { DecodeJob } from '../../../src/otlp/decode/pool.js';

// Imported before the real worker, so this listener runs first: a JSON body reading CRASH ends the thread before anything answers.
parentPort!.on('message', (job: DecodeJob) => {
  if (job.encoding === 'json' && Buffer.from(job.bytes).toString() === 'CRASH') process.exit(7);
});
