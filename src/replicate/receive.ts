import { Metadata, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { UserError } from '../common/errors.js';
import { RETRY_AFTER_SECONDS, type InflightBudget } from '../otlp/transport/inflight.js';
import { encodeRetryStatus } from '../otlp/transport/proto.js';
import type { Sequences } from './sequences.js';
import { BODY_KINDS, isBodyKind, storeAgain, type Receivers } from '../body-kinds.js';
import { META_KIND, META_SENDER, META_SEQ } from './wire.js';

const EMPTY = Buffer.alloc(0);

export interface ReceiveCounters {
  /** Forwarded bodies stored. */
  received: number;
  /** Forwarded bodies refused (malformed, or remote write turned off here). */
  refused: number;
  /** Times a sender's sequence skipped: bodies this replica never got. */
  gaps: number;
}

export interface ReceiveDeps extends Receivers {
  budget: InflightBudget;
  sequences: Sequences;
  /** A forwarded body was lost on the way here; the last one before it arrived at `lastWholeMs`. */
  onGap: (sender: string, lastWholeMs: number) => void;
  log: Logger;
}

/**
 * The receiving end of `Forward`: each body is stored through the receiver its kind names, under
 * the same limits and in-flight budget as a collector's request, and is not forwarded again.
 */
export function forwardImplementation(deps: ReceiveDeps, counters: ReceiveCounters): UntypedServiceImplementation {
  return {
    Forward(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) {
      const kind = String(call.metadata.get(META_KIND)[0] ?? '');
      const sender = String(call.metadata.get(META_SENDER)[0] ?? '');
      const seq = Number(call.metadata.get(META_SEQ)[0] ?? NaN);
      const refuse = (code: status, details: string) => {
        counters.refused++;
        callback({ code, details });
      };
      if (!isBodyKind(kind)) return refuse(status.INVALID_ARGUMENT, `metadata ${META_KIND} must be one of ${BODY_KINDS.join(', ')}`);
      if (sender === '' || !Number.isSafeInteger(seq) || seq < 1)
        return refuse(status.INVALID_ARGUMENT, `metadata ${META_SENDER} and ${META_SEQ} (a number from 1) are required`);
      if (kind.startsWith('remote-write') && deps.remoteWrite === undefined) return refuse(status.UNIMPLEMENTED, 'remote write is turned off on this replica');
      // The message itself is held to the budget by the OTLP receiver's interceptor; this holds a
      // remote-write body's decompressed form.
      const reservation = deps.budget.reserve();
      const lastWhole = deps.sequences.observe(sender, seq, Date.now());
      if (lastWhole !== undefined) {
        counters.gaps++;
        deps.onGap(sender, lastWhole);
      }
      const body = call.request;
      storeAgain(deps, kind, body, 'peer', reservation)!.then(
        () => {
          reservation.release();
          counters.received++;
          callback(null, EMPTY);
        },
        (e: unknown) => {
          reservation.release();
          if (e instanceof UserError && e.code === 'OVER_BUDGET') {
            // With RetryInfo, as the OTLP interceptor's budget refusals: the sender keeps the body and tries again.
            const metadata = new Metadata();
            metadata.set('grpc-status-details-bin', encodeRetryStatus(status.RESOURCE_EXHAUSTED, e.message, RETRY_AFTER_SECONDS));
            return callback({ code: status.RESOURCE_EXHAUSTED, details: e.message, metadata });
          }
          if (e instanceof UserError) return refuse(e.kind.grpc, e.message);
          deps.log.error({ err: e, kind }, 'storing a forwarded body failed unexpectedly');
          refuse(status.INTERNAL, 'internal error while storing the forwarded body');
        },
      );
    },
  };
}
