/** Reading imapflow's parsed responses (handler/types `ImapAttribute`). */
import type {ImapAttribute, ImapResponse} from 'imapflow'
import type {FolderStatus} from './types.js'

/** The text of an atom, quoted string or literal; null for NIL or a list. */
export function text(node: ImapAttribute | undefined): string | null {
  if (node === null || node === undefined || Array.isArray(node)) return null
  const value = node.value
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  if (typeof value === 'number') return String(value)
  return null
}

export function list(node: ImapAttribute | undefined): ImapAttribute[] {
  return Array.isArray(node) ? node : []
}

export function strings(node: ImapAttribute | undefined): string[] {
  return list(node)
    .map((n) => text(n))
    .filter((s): s is string => s !== null)
}

/** The response code of a status response, `[APPENDUID 38505 3955]` → `APPENDUID`, args. */
export function responseCode(response: ImapResponse | undefined): {code: string; args: ImapAttribute[]} | undefined {
  const first = response?.attributes?.[0]
  if (!first || Array.isArray(first) || !first.section || first.section.length === 0) return undefined
  const code = text(first.section[0])
  if (code === null) return undefined
  return {code: code.toUpperCase(), args: first.section.slice(1)}
}

/** `* 12 EXISTS` → 12 */
export function untaggedNumber(response: ImapResponse): number | undefined {
  return /^\d+$/.test(response.command ?? '') ? Number(response.command) : undefined
}

/** A STATUS attribute list (`MESSAGES 3 UIDNEXT 4 …`, RFC 3501 §7.2.4, RFC 7162 §3.1.2.1). */
export function parseStatusList(node: ImapAttribute | undefined): FolderStatus {
  const items = list(node)
  const status: FolderStatus = {}
  for (let i = 0; i + 1 < items.length; i += 2) {
    const key = text(items[i])?.toUpperCase()
    const value = text(items[i + 1])
    if (value === null || !/^\d+$/.test(value)) continue
    if (key === 'UIDVALIDITY') status.uidValidity = Number(value)
    else if (key === 'UIDNEXT') status.uidNext = Number(value)
    else if (key === 'MESSAGES') status.messages = Number(value)
    // 0 means the mailbox keeps no mod-sequences (RFC 7162 §3.1.2.1, NOMODSEQ).
    else if (key === 'HIGHESTMODSEQ' && value !== '0') status.highestModseq = value
  }
  return status
}
