/**
 * UID FETCH (RFC 3501 §6.4.8) as a stream: each untagged FETCH is handed on as it arrives, and
 * imapflow does not parse the next response until the consumer has taken this one (its reader
 * awaits our untagged handler, and its parser awaits the reader). What is held at any time is
 * therefore one response plus imapflow's and the socket's input buffers, whatever the size of
 * the set (docs/imap.md, "Buffering").
 *
 * VANISHED responses during the command (RFC 7162 §3.2.6, the VANISHED modifier; or an
 * unsolicited one while the folder is open) go to `onVanished`.
 *
 * A line of the answer that imapflow could not parse (and skipped) fails the stream after the
 * tagged response, once every response that did parse has been handed on: those are complete
 * and may be kept, but the end of the stream must not read as "that was all" (a message, a flag
 * change or a VANISHED may be what was lost).
 */
import type {ImapResponse} from 'imapflow'
import {unparsedMark, unparsedSince, type FlowInternals, type WireNode} from '../flow-internals.js'
import {vanishedUids} from './vanished.js'

export interface FetchStreamOptions {
  uidSet: string
  items: WireNode[]
  /** e.g. `(CHANGEDSINCE 42 VANISHED)` */
  modifiers?: WireNode[]
  onVanished?: (uids: number[], earlier: boolean) => void
  /** Called while we wait on the server (true) and while the consumer has the data (false). */
  waiting?: (waiting: boolean) => void
}

interface Pending {
  response: ImapResponse
  release: () => void
}

export async function* fetchStream(flow: FlowInternals, options: FetchStreamOptions): AsyncGenerator<ImapResponse, void, undefined> {
  const queue: Pending[] = []
  let finished = false
  let failure: {error: unknown} | undefined
  let stopped = false
  let wake: (() => void) | undefined
  const notify = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }
  const args: WireNode[] = [{type: 'SEQUENCE', value: options.uidSet}, options.items]
  if (options.modifiers && options.modifiers.length > 0) args.push(options.modifiers)
  const mark = unparsedMark(flow)
  const done = flow.exec('UID FETCH', args, {
    untagged: {
      FETCH: (response: ImapResponse) =>
        new Promise<void>((release) => {
          if (stopped) return release()
          queue.push({response, release})
          notify()
        }),
      VANISHED: (response: ImapResponse) => {
        const {uids, earlier} = vanishedUids(response)
        options.onVanished?.(uids, earlier)
      },
    },
  })
  done.then(
    (result) => {
      result.next()
      const unparsed = unparsedSince(flow, mark)
      if (unparsed !== undefined) failure = {error: unparsed}
      else finished = true
      notify()
    },
    (error: unknown) => {
      failure = {error}
      notify()
    },
  )
  try {
    for (;;) {
      const item = queue.shift()
      if (item) {
        options.waiting?.(false)
        try {
          yield item.response
        } finally {
          item.release()
        }
        continue
      }
      if (failure) throw failure.error
      if (finished) return
      options.waiting?.(true)
      await new Promise<void>((resolve) => (wake = resolve))
    }
  } finally {
    options.waiting?.(false)
    // Stopped early (break, throw): let the rest of the response stream past. The command stays
    // in imapflow's queue until its tagged response, so the next command waits for it.
    stopped = true
    for (const item of queue.splice(0)) item.release()
  }
}
