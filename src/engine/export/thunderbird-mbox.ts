/**
 * One message as an entry of a Thunderbird local-folder mbox (docs/commands/export.md):
 *
 *   `From - <asctime UTC>` LF     separator line (Thunderbird's own form: `-` for the sender)
 *   the message, quoted           every line matching `^>*From ` gets one more `>` (mboxrd)
 *   LF if it does not end in LF   so that the blank line below is a line of its own
 *   LF                            the blank line that ends every entry (RFC 4155 §2)
 *
 * The message keeps its own line endings (CRLF as the server sent it): Thunderbird stores
 * messages that way itself, its reader accepts LF and CRLF alike, and a message moved from
 * there to an IMAP server goes up as it came down. The framing (separator and blank line) is a
 * bare LF: Thunderbird drops the last blank line before a separator whichever it is, and
 * readers that compare lines with "\n" (Python's `mailbox.mbox`) then return the quoted
 * message exactly.
 *
 * Quoting covers the first line too (a message that itself starts with an mbox `From ` line),
 * so no line of the entry but the separator starts with `From `: no reader splits a message in
 * two. Thunderbird's current mbox reader removes one `>` from `^>+From ` body lines when it
 * reads; its reader and writer are what this mirrors (comm-central MboxMsgInputStream and
 * MboxMsgOutputStream; RFC 4155 §2 for the format).
 */
import {asctimeUtc} from './message.js'

const LF = 0x0a
const GT = Buffer.from('>')
const NEWLINE = Buffer.from('\n')
const FROM_ = Buffer.from('From ')

/** The entry's pieces, to be written in order; they share memory with `message`. */
export function thunderbirdEntry(message: Buffer, receivedAt: number): Buffer[] {
  const pieces = [Buffer.from(`From - ${asctimeUtc(receivedAt)}\n`, 'latin1'), ...quoteFromLines(message)]
  if (message.length === 0 || message[message.length - 1] !== LF) pieces.push(NEWLINE)
  pieces.push(NEWLINE)
  return pieces
}

/**
 * mboxrd quoting: `>` before every line (the first included) that matches `^>*From `. A line
 * starts at offset 0 or after LF. Returns slices of `message` with `>` pieces between them.
 */
export function quoteFromLines(message: Buffer): Buffer[] {
  const pieces: Buffer[] = []
  let from = 0
  for (let start = 0; start < message.length; ) {
    let p = start
    while (p < message.length && message[p] === 0x3e) p++
    if (message.length - p >= FROM_.length && message.compare(FROM_, 0, FROM_.length, p, p + FROM_.length) === 0) {
      if (start > from) pieces.push(message.subarray(from, start))
      pieces.push(GT)
      from = start
    }
    const lf = message.indexOf(LF, p)
    if (lf < 0) break
    start = lf + 1
  }
  if (from < message.length) pieces.push(message.subarray(from))
  return pieces
}
