/**
 * How servers are known to change a message they store, beyond line ends (docs/upload-maps.md,
 * "What a server changes"). Finding a copy again (match.ts) compares a destination
 * message with the message that was appended; a server that rewrote it makes the bytes differ,
 * and a copy that is not found is uploaded again (U7). So besides the message as sent (with
 * every bare LF as CRLF: CrlfHash), a destination message is also the copy when it is exactly one
 * of these forms, each a fixed function of the bytes sent:
 *
 * - **8-bit header bytes as `X`** (Cyrus IMAP, its default `munge8bit: yes`): every byte 0x80–0xFF
 *   before the first empty line (the header section, RFC 5322 §2.1; all of a message without
 *   one) becomes 0x58. Same size. Only messages with such a byte have this form.
 * - **a final CRLF** (Courier IMAP): a message whose last byte is not LF gets CRLF appended.
 *   Two bytes more. Only messages that do not end with a line end have this form.
 *
 * Each form is what one of those servers stores for exactly this message, so it matches only a
 * message that such a server could have made from it: two distinct messages that the server makes
 * identical are identical on that server, and each destination message is still the copy of one
 * source message only. The comparison tries the message as sent first and these forms only for
 * what is left, so a destination holding both `Café` and `CafXX` pairs each with its own.
 *
 * Not covered: Courier drops a bare CR and Dovecot a NUL byte, which change the size by an
 * amount only the message's bytes tell (and neither byte is allowed in a message: RFC 5322 §2.3,
 * RFC 3501 §4.3). Adoption skips messages whose recorded size is not on the destination without
 * reading them, so such a copy is not found after its map is lost.
 */
import {CrlfHash} from './crlf-hash.js'

/** A form in which a server stores a message appended as `bytes`, other than `bytes` itself. */
export interface RewrittenForm {
  /** The form's size minus the message's, both with line ends as a CRLF server stores them. */
  readonly sizeDelta: number
  /** CrlfHash of the form. */
  hash(): string
}

const X = 0x58
const CRLF = Buffer.from('\r\n')

export function rewrittenForms(bytes: Buffer): RewrittenForm[] {
  const forms: RewrittenForm[] = []
  const headerEnd = headerSectionEnd(bytes)
  if (has8bit(bytes, headerEnd)) {
    forms.push({sizeDelta: 0, hash: () => new CrlfHash().update(munged(bytes.subarray(0, headerEnd))).update(bytes.subarray(headerEnd)).digest()})
  }
  if (bytes.length === 0 || bytes[bytes.length - 1] !== 0x0a) {
    forms.push({sizeDelta: 2, hash: () => new CrlfHash().update(bytes).update(CRLF).digest()})
  }
  return forms
}

/**
 * The sizes (as differences from the recorded size) a copy of a backed-up message can have, told
 * by its exactness record without reading the message: its own, and two bytes more when it does
 * not end with a line end (the record's `appended` count is 2 exactly then, docs/design.md).
 */
export function recordedSizeDeltas(appended: number): number[] {
  return appended === 2 ? [0, 2] : [0]
}

/** The offset of the first empty line (its CRLF or LF), or the length when there is none. */
function headerSectionEnd(bytes: Buffer): number {
  if (bytes[0] === 0x0a || (bytes[0] === 0x0d && bytes[1] === 0x0a)) return 0
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    const next = i + 1
    if (bytes[next] === 0x0a || (bytes[next] === 0x0d && bytes[next + 1] === 0x0a)) return next
  }
  return bytes.length
}

function has8bit(bytes: Buffer, end: number): boolean {
  for (let i = 0; i < end; i++) if (bytes[i]! >= 0x80) return true
  return false
}

function munged(header: Buffer): Buffer {
  const out = Buffer.from(header)
  for (let i = 0; i < out.length; i++) if (out[i]! >= 0x80) out[i] = X
  return out
}
