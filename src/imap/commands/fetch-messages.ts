/**
 * The answer to `UID FETCH set (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])`, message by
 * message, for a MessageSink (types.ts): only UIDs of the set, each at most once. A server may
 * send the items of one message in several responses (RFC 3501 §7.4.2: flags first, the body
 * later, or an unsolicited FLAGS update in between), so items of a UID are merged until its body
 * is complete, and the summary given with the body's end holds them all.
 */
import type {BodySink, TapConsumer} from '../fetch-tap.js'
import type {MessageSink, MessageSummary} from '../types.js'
import {messageSummary, type FetchData} from './fetch-response.js'
import {collectBody, merge} from './fetch-stream.js'

export class MessageAssembler implements TapConsumer {
  private readonly partial = new Map<number, FetchData>()
  private readonly done = new Set<number>()

  constructor(
    private readonly inSet: (uid: number) => boolean,
    private readonly sink: MessageSink,
  ) {}

  data(data: FetchData): void {
    const uid = data.uid
    if (uid === undefined || !this.inSet(uid) || this.done.has(uid)) return
    this.partial.set(uid, merge(this.partial.get(uid), data))
  }

  body(head: FetchData, size: number): BodySink | undefined {
    const uid = head.uid
    // The UID after the body (allowed, never seen): the bytes are held until it is known.
    if (uid === undefined) return collectBody((body, tail) => this.late(merge(head, tail), body))
    if (!this.inSet(uid) || this.done.has(uid)) return undefined
    const writer = this.sink.open(uid, size)
    if (writer === undefined) return undefined
    return {
      write: (bytes) => writer.write(bytes),
      end: (tail) => {
        // A different UID after the body than before it: a broken answer; the message is left
        // out (the engine fetches what is missing again, one by one).
        if (tail.uid !== undefined && tail.uid !== uid) return writer.abort()
        return writer.end(this.complete(uid, merge(head, tail), size))
      },
      abort: () => writer.abort(),
    }
  }

  private async late(data: FetchData, body: Buffer): Promise<void> {
    const uid = data.uid
    if (uid === undefined || !this.inSet(uid) || this.done.has(uid)) return
    const writer = this.sink.open(uid, body.length)
    if (writer === undefined) return
    try {
      await writer.write(body)
    } catch (error) {
      await writer.abort()
      throw error
    }
    await writer.end(this.complete(uid, data, body.length))
  }

  private complete(uid: number, data: FetchData, bodyBytes: number): MessageSummary {
    const merged = merge(this.partial.get(uid), data)
    this.partial.delete(uid)
    this.done.add(uid)
    return messageSummary(uid, merged, merged.size ?? bodyBytes)
  }
}
