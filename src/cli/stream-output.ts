/**
 * Writing a long result as it is produced (`local list`, `local search`): one line per item, or
 * with `--json` the same compact JSON array BaseCommand would print, without holding the items
 * or the whole text in memory. A 100,000-message listing held whole cost 200 MB and half its
 * time in the garbage collector; written as it comes it stays at the size of one mbox window
 * (docs/benchmarks.md, "Reading the backup").
 *
 * Text is gathered into chunks of about CHUNK_CHARS and written with backpressure (a slow reader
 * such as a pager holds the command, not its memory); a reader that leaves ends the writing
 * quietly (closed-pipe.ts). Every chunk goes through scrubOutput(), like all of mailkeep's output.
 */
import {once} from 'node:events'
import {scrubOutput} from '../shared/secrets.js'
import {pipeClosed} from './closed-pipe.js'

const CHUNK_CHARS = 64 * 1024

export class StreamWriter {
  private buffer = ''

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  /** Adds text; writes when a chunk is full. */
  async write(text: string): Promise<void> {
    this.buffer += text
    if (this.buffer.length >= CHUNK_CHARS) await this.flush()
  }

  async flush(): Promise<void> {
    if (this.buffer === '') return
    const chunk = scrubOutput(this.buffer)
    this.buffer = ''
    if (pipeClosed(this.stream)) return
    if (!this.stream.write(chunk) && !pipeClosed(this.stream)) await once(this.stream, 'drain')
  }
}

/** `items` as the compact JSON array `JSON.stringify([...items])` would give. */
export async function writeJsonArray<T>(items: AsyncIterable<T>, out: StreamWriter): Promise<number> {
  let count = 0
  await out.write('[')
  for await (const item of items) {
    await out.write(`${count === 0 ? '' : ','}${JSON.stringify(item)}`)
    count++
  }
  await out.write(']\n')
  await out.flush()
  return count
}
