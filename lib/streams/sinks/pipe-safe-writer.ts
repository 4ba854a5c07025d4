/**
 * Text to a stream the reader may close early (`scim-etl … | head -1`):
 * EPIPE is caught, not thrown as an unhandled 'error' event, and turns into
 * ReaderGone so that the producer stops quietly. Backpressure is kept
 * (write resolves on 'drain').
 */
import { ScimEtlError } from '../../errors.js';

/** The reader closed the pipe: it wants no more; not a failure. */
export class ReaderGone extends Error {
  constructor() {
    super('the reader closed the output');
    this.name = 'ReaderGone';
  }
}

export interface PipeSafeWriter {
  write(text: string): Promise<void>;
  readonly gone: boolean;
}

const GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

export function pipeSafeWriter(out: NodeJS.WritableStream): PipeSafeWriter {
  let gone = false;
  let failure: ScimEtlError | undefined;
  let waiters: Array<() => void> = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  // Stays attached: a late EPIPE of a buffered write must not crash the process either.
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (GONE.has(err.code ?? '')) gone = true;
    else failure ??= new ScimEtlError('ERR_OUTPUT_WRITE', `cannot write to the output: ${err.code ?? err.message}`, {}, { cause: err });
    wake();
  });
  const check = () => {
    if (failure) throw failure;
    if (gone) throw new ReaderGone();
  };
  return {
    get gone() {
      return gone;
    },
    async write(text: string): Promise<void> {
      check();
      if (!out.write(text)) {
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          out.once('drain', wake);
        });
      }
      check();
    },
  };
}
