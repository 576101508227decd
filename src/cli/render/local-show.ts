/**
 * Output of `mailkeep local show`. Text: the message bytes exactly as the store returns them
 * (no re-encoding); with several UIDs each is preceded by imap-backup's box (compat §2.2) and
 * followed by a line break if it does not end with one. JSON: `[{uid, offset, length, flags,
 * body, exact}]`, where `body` is the bytes read as UTF-8, and `body_base64` (the exact bytes)
 * is added when they are not valid UTF-8 (then `body` has U+FFFD in place of the bad bytes).
 */
import type {ShownMessage} from '../../engine/inspect/local-show.js'

export interface ShownMessageJson {
  uid: number
  offset: number
  length: number
  flags: string[]
  body: string
  body_base64?: string
  exact: boolean
}

export function showJson(messages: readonly ShownMessage[]): ShownMessageJson[] {
  return messages.map((m) => {
    const out: ShownMessageJson = {uid: m.uid, offset: m.offset, length: m.length, flags: m.flags, body: m.bytes.toString('utf8'), exact: m.exact}
    if (!isUtf8(m.bytes)) out.body_base64 = m.bytes.toString('base64')
    return out
  })
}

/** The bytes `local show` writes to stdout. */
export function showBytes(messages: readonly ShownMessage[]): Buffer {
  if (messages.length === 1) return messages[0]!.bytes
  const parts: Buffer[] = []
  for (const m of messages) {
    parts.push(Buffer.from(`${'-'.repeat(80)}\n| UID: ${String(m.uid).padEnd(71)} |\n${'-'.repeat(80)}\n`))
    parts.push(m.bytes)
    if (m.bytes.length === 0 || m.bytes[m.bytes.length - 1] !== 0x0a) parts.push(Buffer.from('\n'))
  }
  return Buffer.concat(parts)
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', {fatal: true}).decode(bytes)
    return true
  } catch {
    return false
  }
}
