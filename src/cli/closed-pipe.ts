/**
 * A reader that stops reading (`mailkeep local show … | head`, a pager quit early) closes the
 * pipe; the next write to it fails with EPIPE. Node ignores SIGPIPE, so instead of dying quietly
 * as a C program would, the process gets an 'error' event on the stream, which without a
 * listener is an uncaught exception ("internal error: write EPIPE").
 *
 * A closed pipe is the reader's choice, not a failure: from then on writes to that stream are
 * dropped, the command runs to its end as it would have (a backup still commits what it
 * fetched), and the exit status is the command's own (0 for `local show`). Writes to the other
 * stream go on.
 */
import {errnoCode} from '../shared/errors.js'

type Writable = NodeJS.WriteStream

const closed = new WeakSet<Writable>()

/** Installs the EPIPE handling on stdout and stderr; call once, before anything is written. */
export function tolerateClosedPipes(streams: readonly Writable[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: Error) => {
      if (!isClosedPipe(error)) throw error
      dropWrites(stream)
    })
  }
}

/** True for the error a write to a pipe without reader gets (EPIPE; ERR_STREAM_DESTROYED after it). */
export function isClosedPipe(error: unknown): boolean {
  const code = errnoCode(error)
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED'
}

/** Whether the reader of this stream went away. */
export function pipeClosed(stream: Writable): boolean {
  return closed.has(stream)
}

function dropWrites(stream: Writable): void {
  if (closed.has(stream)) return
  closed.add(stream)
  // Every later write succeeds at once and writes nothing: callers (ours, oclif's, inquirer's)
  // need not each know that the reader left.
  stream.write = ((...args: unknown[]): boolean => {
    const callback = args.find((a): a is () => void => typeof a === 'function')
    if (callback !== undefined) queueMicrotask(callback)
    return true
  }) as Writable['write']
  // Whoever waits for the buffer to drain (oclif's flush() before exit) would wait forever: the
  // buffered bytes will never be read. Nothing is buffered any more, which is what 'drain' says.
  stream.emit('drain')
}
