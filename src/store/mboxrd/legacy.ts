/**
 * imap-backup's reading rule, for entries that have no exactness record (compat §4.2,
 * `Message.from_serialized`):
 *
 * 1. remove one `>` from every line matching `^>+From` — no space needed, because imap-backup
 *    quoted `From:` header lines too (its issues #224, #181), so they come back intact;
 * 2. then, if the text starts with "From ", drop that first line together with every CR and LF
 *    that directly follows it (imap-backup removes `^From .*` and the run of CR/LF after it, so
 *    a message that itself began with empty lines loses them; kept for compatibility).
 *
 * The result is imap-backup's stored text: LF line endings, the added newline(s) kept.
 * legacyToUpload() turns it into what imap-backup sends to a server.
 */
import {CR, LF, startsWithFromSpace} from './bytes.js'
import {unquoteText} from './quoting.js'

/**
 * imap-backup's reading of one entry (whole buffer). Its unquoting is the `compat` reading rule
 * of quoting.ts, the exact inverse of what mailkeep writes. The result may share memory with `entry`.
 */
export function legacyDecode(entry: Buffer): Buffer {
  const text = unquoteText(entry, 'compat')
  if (!startsWithFromSpace(text)) return text
  const lf = text.indexOf(LF)
  if (lf < 0) return Buffer.alloc(0)
  let start = lf + 1
  while (start < text.length && (text[start] === LF || text[start] === CR)) start++
  return text.subarray(start)
}

/** Every LF not preceded by CR becomes CRLF (imap-backup's `imap_body`, RFC 5322 §2.3 line ends). */
export function legacyToUpload(text: Buffer): Buffer {
  let bare = 0
  for (let i = text.indexOf(LF); i >= 0; i = text.indexOf(LF, i + 1)) {
    if (i === 0 || text[i - 1] !== CR) bare++
  }
  if (bare === 0) return text
  const out = Buffer.allocUnsafe(text.length + bare)
  let from = 0
  let to = 0
  for (let i = text.indexOf(LF); i >= 0; i = text.indexOf(LF, i + 1)) {
    if (i > 0 && text[i - 1] === CR) continue
    to += text.copy(out, to, from, i)
    out[to++] = CR
    from = i
  }
  text.copy(out, to, from)
  return out
}
