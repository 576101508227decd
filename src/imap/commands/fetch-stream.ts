/**
 * UID FETCH (RFC 3501 §6.4.8), its responses handed to a consumer as they arrive: through the
 * FETCH tap (fetch-tap.ts) for the responses it reads, and through imapflow's untagged FETCH
 * handler for the others. Either way the next response is read only once the consumer is done
 * with this one (its promise resolved), so what is held at any time is one response's line plus
 * the connection's input buffers, whatever the size of the set (docs/imap.md, "Buffering").
 *
 * VANISHED responses during the command (RFC 7162 §3.2.6, the VANISHED modifier; or an
 * unsolicited one while the folder is open) go to `onVanished`.
 *
 * A line of the answer that could not be parsed (and was skipped) fails the command after the
 * tagged response, once every response that did parse has been handed on: those are complete and
 * may be kept, but the end of the answer must not read as "that was all" (a message, a flag
 * change or a VANISHED may be what was lost).
 */
import type {ImapResponse} from 'imapflow'
import type {FetchTap, TapConsumer, TapJob} from '../fetch-tap.js'
import {unparsedMark, unparsedSince, type FlowInternals, type WireNode} from '../flow-internals.js'
import {parseFetch, type FetchData} from './fetch-response.js'
import {vanishedUids} from './vanished.js'

export interface FetchOptions {
  uidSet: string
  items: WireNode[]
  /** e.g. `(CHANGEDSINCE 42 VANISHED)` */
  modifiers?: WireNode[]
  onVanished?: (uids: number[], earlier: boolean) => void
  /** Called while we wait on the server (true) and while the consumer has the data (false). */
  waiting?: (waiting: boolean) => void
}

/**
 * Runs one UID FETCH. Resolves after the tagged response, every response delivered; rejects with
 * the consumer's error as soon as it throws (the rest of the answer is then read and dropped in
 * the background: the command stays in imapflow's queue until its tagged response, so the next
 * command waits for it), or with the command's failure.
 */
export function runFetch(flow: FlowInternals, tap: FetchTap, options: FetchOptions, consumer: TapConsumer): Promise<void> {
  const args: WireNode[] = [{type: 'SEQUENCE', value: options.uidSet}, options.items]
  if (options.modifiers && options.modifiers.length > 0) args.push(options.modifiers)
  const gate = options.waiting ?? ((): void => undefined)
  const mark = unparsedMark(flow)
  return new Promise<void>((resolve, reject) => {
    let settled = false
    let dropping = false
    const settle = (error: unknown): void => {
      if (settled) return
      settled = true
      gate(false)
      if (error === undefined) resolve()
      else reject(error)
    }
    const job: TapJob = {
      consumer,
      gate,
      failed: (error) => {
        dropping = true
        settle(error)
      },
    }
    gate(true)
    const done = flow.exec('UID FETCH', args, {
      untagged: {
        // The responses the tap passed on (items it does not read, or a shape it does not know).
        FETCH: async (response: ImapResponse) => {
          if (dropping) return
          try {
            await deliver(consumer, parseFetch(response), gate)
          } catch (error) {
            job.failed(error)
          }
        },
        VANISHED: (response: ImapResponse) => {
          const {uids, earlier} = vanishedUids(response)
          options.onVanished?.(uids, earlier)
        },
      },
      onSend: () => tap.arm(job),
    })
    done.then(
      async (result) => {
        // Before next(): nothing after the tagged response may be read as ours.
        await tap.disarm(job)
        result.next()
        settle(unparsedSince(flow, mark))
      },
      async (error: unknown) => {
        await tap.disarm(job)
        settle(error)
      },
    )
  })
}

/** A response imapflow parsed, delivered as the tap would deliver it. */
async function deliver(consumer: TapConsumer, data: FetchData, gate: (waiting: boolean) => void): Promise<void> {
  gate(false)
  try {
    const body = data.body
    if (body === undefined || body === null) {
      await consumer.data(data)
      return
    }
    const head = {...data}
    delete head.body
    const sink = consumer.body(head, body.length)
    if (sink === undefined) return
    try {
      await sink.write(body)
    } catch (error) {
      await Promise.resolve(sink.abort()).catch(() => undefined)
      throw error
    }
    await sink.end({})
  } finally {
    gate(true)
  }
}

/**
 * Turns a push-style producer into an async iterable: `run(push)` pushes items, and each push
 * resolves once the iterating loop has taken the item and asked for the next one (backpressure).
 * A loop that stops early (break, throw) lets the producer run to its end, every later push
 * resolving at once; a producer that fails makes the loop throw once it has taken every item
 * pushed before.
 */
export async function* pull<T>(run: (push: (item: T) => Promise<void>) => Promise<void>): AsyncGenerator<T, void, undefined> {
  const queue: Array<{item: T; release: () => void}> = []
  let finished = false
  let failure: {error: unknown} | undefined
  let stopped = false
  let wake: (() => void) | undefined
  const notify = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }
  const push = (item: T): Promise<void> =>
    new Promise<void>((release) => {
      if (stopped) return release()
      queue.push({item, release})
      notify()
    })
  run(push).then(
    () => {
      finished = true
      notify()
    },
    (error: unknown) => {
      failure = {error}
      notify()
    },
  )
  try {
    for (;;) {
      const next = queue.shift()
      if (next) {
        try {
          yield next.item
        } finally {
          next.release()
        }
        continue
      }
      if (failure) throw failure.error
      if (finished) return
      await new Promise<void>((resolve) => (wake = resolve))
    }
  } finally {
    stopped = true
    for (const item of queue.splice(0)) item.release()
  }
}

/**
 * A writer that collects the bytes into one Buffer and hands them on at its end, with what the
 * end brings (a BodySink's tail, a MessageWriter's summary).
 */
export function collectBody<End>(done: (body: Buffer, end: End) => void | Promise<void>): {write(bytes: Buffer): void; end(end: End): void | Promise<void>; abort(): void} {
  const parts: Buffer[] = []
  let length = 0
  return {
    write(bytes) {
      parts.push(bytes)
      length += bytes.length
    },
    end(end) {
      return done(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length), end)
    },
    abort() {
      parts.length = 0
    },
  }
}

/** Items of one message from several responses (RFC 3501 §7.4.2): what came later wins. */
export function merge(before: FetchData | undefined, after: FetchData): FetchData {
  if (before === undefined) return after
  const out: FetchData = {...before}
  for (const [key, value] of Object.entries(after)) if (value !== undefined) (out as Record<string, unknown>)[key] = value
  return out
}

/**
 * A FETCH consumer for items that may come split over several responses of one message (RFC 3501
 * §7.4.2 allows it, and a server may send an unsolicited FLAGS between): the parts of each UID of
 * the set are merged until `complete` makes an item of them, which is pushed once. A body literal
 * is passed by, its other items taken.
 */
export function mergedItems<T>(inSet: (uid: number) => boolean, complete: (uid: number, merged: FetchData) => T | undefined, push: (item: T) => Promise<void>): TapConsumer {
  const partial = new Map<number, FetchData>()
  const data = (d: FetchData): Promise<void> | undefined => {
    if (d.uid === undefined || !inSet(d.uid)) return undefined
    const merged = merge(partial.get(d.uid), d)
    const item = complete(d.uid, merged)
    if (item === undefined) {
      partial.set(d.uid, merged)
      return undefined
    }
    partial.delete(d.uid)
    return push(item)
  }
  return {data, body: (head) => void data(head)}
}
