/**
 * The server's own answer behind a refused command: a tagged NO or BAD (RFC 3501 §7.1), its
 * response code (RFC 5530: `[OVERQUOTA]`, `[TOOBIG]`, `[CANNOT]` …) and its text. The engine
 * needs it to tell refusals apart (e.g. an APPEND refused for its keywords, or for its size)
 * without knowing imapflow's error shape, which is read here: `responseStatus` and the parsed
 * tagged `response` on the error classify.ts put as `cause`.
 */
import type {ImapResponse} from 'imapflow'
import {responseCode} from './response.js'

export interface ServerAnswer {
  status: 'NO' | 'BAD'
  /** Upper case, without brackets; undefined when the answer had none. */
  code?: string
  /** The human-readable text (may be empty). */
  text: string
}

/** The NO/BAD answer an error (or one of its causes) carries; undefined for anything else. */
export function serverAnswer(error: unknown): ServerAnswer | undefined {
  const seen = new Set<unknown>()
  for (let e = error; typeof e === 'object' && e !== null && !seen.has(e); e = (e as {cause?: unknown}).cause) {
    seen.add(e)
    const flow = e as {responseStatus?: unknown; responseText?: unknown; response?: unknown}
    if (flow.responseStatus !== 'NO' && flow.responseStatus !== 'BAD') continue
    const response = typeof flow.response === 'object' && flow.response !== null ? (flow.response as ImapResponse) : undefined
    const code = responseCode(response)?.code
    const answer: ServerAnswer = {status: flow.responseStatus, text: typeof flow.responseText === 'string' ? flow.responseText : ''}
    if (code !== undefined) answer.code = code
    return answer
  }
  return undefined
}
