/**
 * SELECT / EXAMINE (RFC 3501 §6.3.1, §6.3.2), with the QRESYNC parameter (RFC 7162 §3.2.5)
 * when asked and enabled: `EXAMINE name (QRESYNC (uidvalidity modseq))`. The server then
 * reports, before the tagged OK, `* VANISHED (EARLIER) uids` for what was expunged since modseq
 * (§3.2.5.1, §3.2.10) and `* n FETCH (UID … FLAGS … MODSEQ …)` for what changed.
 */
import type {ImapResponse} from 'imapflow'
import {command, type FlowInternals, type WireNode} from '../flow-internals.js'
import {list, responseCode, text, untaggedNumber} from '../response.js'
import {parseFetch} from './fetch-response.js'
import {vanishedUids} from './vanished.js'

export interface OpenResult {
  readOnly: boolean
  uidValidity?: number
  uidNext?: number
  exists: number
  highestModseq?: string
  noModseq: boolean
  /** `[PERMANENTFLAGS (…)]` (RFC 3501 §7.1), when sent. */
  permanentFlags?: string[]
  /** Only when the QRESYNC parameter was sent. */
  vanished?: number[]
  changed?: Array<{uid: number; flags: string[]}>
}

export async function openMailbox(
  flow: FlowInternals,
  mailbox: WireNode,
  options: {readOnly: boolean; qresync?: {uidValidity: number; highestModseq: string}},
): Promise<OpenResult> {
  const result: OpenResult = {readOnly: options.readOnly, exists: 0, noModseq: false}
  const args: WireNode[] = [mailbox]
  if (options.qresync) {
    args.push([
      {type: 'ATOM', value: 'QRESYNC'},
      [
        {type: 'ATOM', value: String(options.qresync.uidValidity)},
        {type: 'ATOM', value: options.qresync.highestModseq},
      ],
    ])
    result.vanished = []
    result.changed = []
  }
  const tagged = await command(flow, options.readOnly ? 'EXAMINE' : 'SELECT', args, {
    OK: (untagged: ImapResponse) => {
      const code = responseCode(untagged)
      if (!code) return
      const value = text(code.args[0])
      const number = value !== null && /^\d+$/.test(value) ? value : undefined
      if (code.code === 'UIDVALIDITY' && number) result.uidValidity = Number(number)
      else if (code.code === 'UIDNEXT' && number) result.uidNext = Number(number)
      else if (code.code === 'HIGHESTMODSEQ' && number) result.highestModseq = number
      else if (code.code === 'NOMODSEQ') result.noModseq = true
      else if (code.code === 'PERMANENTFLAGS') result.permanentFlags = list(code.args[0]).map((f) => text(f)).filter((f): f is string => f !== null)
    },
    EXISTS: (untagged: ImapResponse) => {
      const n = untaggedNumber(untagged)
      if (n !== undefined) result.exists = n
    },
    VANISHED: (untagged: ImapResponse) => {
      if (result.vanished) result.vanished.push(...vanishedUids(untagged).uids)
    },
    FETCH: (untagged: ImapResponse) => {
      const message = parseFetch(untagged)
      if (result.changed && message.uid !== undefined && message.flags) result.changed.push({uid: message.uid, flags: message.flags})
    },
  })
  const code = responseCode(tagged)
  if (code?.code === 'READ-ONLY') result.readOnly = true
  else if (code?.code === 'READ-WRITE') result.readOnly = false
  if (result.noModseq) delete result.highestModseq
  return result
}
