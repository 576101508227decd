/**
 * One message downloaded in byte ranges (BODY.PEEK[]<origin.length>, RFC 3501 §6.4.5), one
 * partial FETCH per chunk, each when the consumer asks: a message larger than memory should hold
 * is never held whole (docs/imap.md).
 */
import {InternalError, RemoteError} from '../shared/errors.js'
import {messageSummary} from './commands/fetch-response.js'
import type {WireNode} from './flow-internals.js'
import {fetchItems, fetchOne, type FetchRunner} from './message-fetch.js'
import type {MessageSummary} from './types.js'

export interface Download {
  runner: FetchRunner
  /** Bytes asked for by each partial FETCH. */
  chunkBytes: number
  server: string
  /** The selected folder when the download began, for messages. */
  folder: string | undefined
}

export async function downloadMessage(download: Download, uid: number): Promise<{summary: MessageSummary; chunks: AsyncIterable<Buffer>} | null> {
  if (!Number.isInteger(uid) || uid <= 0) throw new InternalError(`downloadMessage: bad UID ${uid}`)
  const headItems = fetchItems(download.runner, ['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE'], true, bodyRange(0, download.chunkBytes))
  const first = await fetchOne(download.runner, uid, headItems)
  if (first === undefined || first.body === undefined || first.body === null) return null
  const size = first.size ?? 0
  return {summary: messageSummary(uid, first, size), chunks: chunks(download, uid, first.body, size)}
}

/** The rest of a download, one partial FETCH per chunk, each when the consumer asks. */
async function* chunks({runner, chunkBytes: chunk, server, folder}: Download, uid: number, firstBody: Buffer, size: number): AsyncGenerator<Buffer, void, undefined> {
  let data = firstBody
  let offset = 0
  for (;;) {
    if (data.length > chunk) {
      // The server ignored the partial range and sent the whole message (some do).
      if (offset > 0) throw new RemoteError(`${server} ignored the byte range of a partial FETCH of UID ${uid}`, {cause: new Error(`asked ${chunk} bytes at ${offset}, got ${data.length}`)})
      yield data
      return
    }
    if (data.length > 0) yield data
    if (data.length < chunk) return
    offset += data.length
    if (size > 0 && offset > 2 * size + chunk) {
      throw new RemoteError(`${server} sent more than twice the RFC822.SIZE of UID ${uid}`, {cause: new Error(`size ${size}, received ${offset}`)})
    }
    const next = await fetchOne(runner, uid, [{type: 'ATOM', value: 'UID'}, bodyRange(offset, chunk)])
    if (next === undefined) {
      throw new RemoteError(`message UID ${uid} disappeared from '${folder ?? '?'}' during its download`, {cause: new Error('no FETCH response for a partial range')})
    }
    data = next.body ?? Buffer.alloc(0)
  }
}

/** BODY.PEEK[]<origin.length> (RFC 3501 §6.4.5): a byte range of the whole message. */
function bodyRange(origin: number, length: number): WireNode {
  return {type: 'ATOM', value: 'BODY.PEEK', section: [], partial: [origin, length]}
}
