/**
 * imap-backup's mbox rules, written again here from its format description (its `.mbox` entry:
 * separator line, LF line ends, its quoting, padding; and its reader), independently of
 * src/store, so that tests can show what imap-backup makes of mailkeep's files and what mailkeep
 * makes of imap-backup's. Lines are split on LF only: a bare CR does not end a line (a regular
 * expression with the `m` flag would also split at CR, which imap-backup does not).
 *
 * Writer: the message's CRLFs become LF; every line except the very first that starts with any
 * number of `>` followed by `From` (a space after it or not) gets one more `>`; then an LF is
 * added if the text does not end with one, and another if it does not end with two; a separator
 * line `From <sender>` goes in front.
 *
 * Reader: every line that starts with one or more `>` followed by `From` (space or not) loses
 * one `>`; then, if the text starts with `From `, that line is dropped together with every CR and
 * LF right after it. What remains is the message as imap-backup gives it back (LF line ends, the
 * padding kept).
 *
 * And a strict mboxrd reader, as other mbox tools read: the separator line is dropped and every
 * line that starts with one or more `>` followed by `From ` (with the space) loses one `>`.
 */

const quotedFrom = /^>*From/
const quotedFromAfterGt = /^>+From/
const strictQuoted = /^>+From /

function lines(text: string): string[] {
  return text.split('\n')
}

/** The entry imap-backup writes for a message (latin1 keeps every byte as one character). */
export function imapBackupWrite(message: Buffer, sender = 'sender@example.test'): Buffer {
  return Buffer.concat([Buffer.from(`From ${sender}\n`, 'latin1'), imapBackupBody(message)])
}

/** The entry without its separator line: the message quoted and padded as imap-backup does. */
export function imapBackupBody(message: Buffer): Buffer {
  const text = message.toString('latin1').replace(/\r\n/g, '\n')
  let body = lines(text)
    .map((line, i) => (i > 0 && quotedFrom.test(line) ? `>${line}` : line))
    .join('\n')
  if (!body.endsWith('\n')) body += '\n'
  if (!body.endsWith('\n\n')) body += '\n'
  return Buffer.from(body, 'latin1')
}

/** imap-backup's reading of an entry. */
export function imapBackupRead(entry: Buffer): Buffer {
  let text = lines(entry.toString('latin1'))
    .map((line) => (quotedFromAfterGt.test(line) ? line.slice(1) : line))
    .join('\n')
  if (text.startsWith('From ')) {
    const lf = text.indexOf('\n')
    text = lf < 0 ? '' : text.slice(lf + 1).replace(/^[\r\n]+/, '')
  }
  return Buffer.from(text, 'latin1')
}

/** A strict mboxrd reader's reading of an entry (the separator dropped, `^>+From ` unquoted). */
export function strictMboxrdRead(entry: Buffer): Buffer {
  const text = entry.toString('latin1')
  const lf = text.indexOf('\n')
  const body = lf < 0 ? '' : text.slice(lf + 1)
  return Buffer.from(
    lines(body)
      .map((line) => (strictQuoted.test(line) ? line.slice(1) : line))
      .join('\n'),
    'latin1',
  )
}

/** The message as imap-backup stores its text: CRLF → LF, padded to end with an empty line. */
export function imapBackupText(message: Buffer): Buffer {
  let text = message.toString('latin1').replace(/\r\n/g, '\n')
  if (!text.endsWith('\n')) text += '\n'
  if (!text.endsWith('\n\n')) text += '\n'
  return Buffer.from(text, 'latin1')
}
