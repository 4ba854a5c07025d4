/**
 * PlanItem → BatchItem: operations gathered into Bulk batches of at most
 * `maxOperations` operations and `maxPayloadSize` bytes. Outcomes of refused
 * lines pass straight through. Holds one batch in memory, no more.
 */
import { Transform } from 'node:stream';
import { ScimEtlError } from '../../errors.js';
import { bulkOperationSize, type RequestStyle } from '../../scim/requests.js';
import type { BatchItem, PlanItem, PlannedOp } from '../../types.js';

export interface BatchOptions {
  maxOperations: number;
  /** Bytes of the whole BulkRequest body (the server's bulk.maxPayloadSize). */
  maxPayloadSize: number;
  style?: RequestStyle;
  /** Measures one operation (default: its JSON size in a BulkRequest). */
  sizeOf?: (op: PlannedOp) => number;
}

/** The envelope around the operations: {"schemas":[…BulkRequest],"Operations":[…]} plus margin. */
const ENVELOPE_BYTES = 128;

export function normalizeBatchOptions(opts: BatchOptions): Required<Omit<BatchOptions, 'style'>> & { style: RequestStyle } {
  if (!Number.isInteger(opts.maxOperations) || opts.maxOperations < 1) {
    throw new ScimEtlError('ERR_OPTION_BULK_MAX_OPERATIONS', `bulk maxOperations must be a positive integer, got ${JSON.stringify(opts.maxOperations)}`);
  }
  if (!Number.isFinite(opts.maxPayloadSize) || opts.maxPayloadSize <= ENVELOPE_BYTES) {
    throw new ScimEtlError('ERR_OPTION_BULK_MAX_PAYLOAD', `bulk maxPayloadSize must be a number of bytes above ${ENVELOPE_BYTES}, got ${JSON.stringify(opts.maxPayloadSize)}`);
  }
  const style = opts.style ?? {};
  return { maxOperations: opts.maxOperations, maxPayloadSize: opts.maxPayloadSize, style, sizeOf: opts.sizeOf ?? ((op) => bulkOperationSize(op, style)) };
}

/** The batching logic: push items, get the items to emit. An operation bigger than a batch goes alone. */
export class Batcher {
  private readonly opts: ReturnType<typeof normalizeBatchOptions>;
  private ops: PlannedOp[] = [];
  private bytes = ENVELOPE_BYTES;

  constructor(opts: BatchOptions) {
    this.opts = normalizeBatchOptions(opts);
  }

  push(item: PlanItem): BatchItem[] {
    if (item.kind === 'outcome') return [item];
    const out: BatchItem[] = [];
    const size = this.opts.sizeOf(item.op);
    if (this.ops.length > 0 && (this.ops.length >= this.opts.maxOperations || this.bytes + size > this.opts.maxPayloadSize)) {
      out.push(...this.flush());
    }
    this.ops.push(item.op);
    this.bytes += size;
    return out;
  }

  flush(): BatchItem[] {
    if (this.ops.length === 0) return [];
    const batch: BatchItem = { kind: 'batch', ops: this.ops };
    this.ops = [];
    this.bytes = ENVELOPE_BYTES;
    return [batch];
  }
}

export function createBatcher(opts: BatchOptions): Transform {
  const batcher = new Batcher(opts);
  return new Transform({
    objectMode: true,
    transform(item: PlanItem, _enc, done) {
      for (const b of batcher.push(item)) this.push(b);
      done();
    },
    flush(done) {
      for (const b of batcher.flush()) this.push(b);
      done();
    },
  });
}
