/**
 * The separator line of an entry: `From <sender>[ <asctime>]\n` (RFC 4155 §2; imap-backup's
 * exact form, compat §4.2).
 *
 * sender, in order of preference: the first well-formed addr-spec of `From:`, of `Sender:`, the
 * envelope address of a leading `From ` line, the addr-spec of `Return-Path:` (without `<>`),
 * else the empty string. asctime: the `Date:` header in its own zone (date-asctime.ts), left out
 * with its space when missing or invalid. Only the header block is read.
 */
import {firstAddrSpec} from './address.js'
import {asctimeFromDate} from './date-asctime.js'
import {readSenderFields, type SenderFields} from './header-fields.js'

/** The separator line, LF included, for a message whose header block is `header`. */
export function separatorLine(header: Buffer): Buffer {
  const fields = readSenderFields(header)
  const sender = senderOf(fields)
  const asctime = asctimeFromDate(fields.date)
  const text = asctime === undefined ? `From ${sender}` : `From ${sender} ${asctime}`
  // The parsers above never let CR, LF or NUL through; this keeps it so whatever changes there,
  // because one stray LF would split the mbox in two.
  return Buffer.from(`${text.replace(/[\r\n\0]/g, '')}\n`, 'latin1')
}

/** The sender part of the separator line (RFC 4155 §2 calls it the sender's address), or '' if there is none. */
export function senderOf(fields: SenderFields): string {
  return (
    addressOf(fields.from) ??
    addressOf(fields.sender) ??
    envelopeAddress(fields.envelope) ??
    addressOf(fields.returnPath) ??
    ''
  )
}

function addressOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : firstAddrSpec(value)
}

/**
 * The envelope line of an mbox-style message is `From <addr-spec> <date>` (RFC 4155 §2). The
 * first word is taken, with `<>` around it tolerated, and it must itself be a well-formed
 * addr-spec (as the mail gem requires), so `From MAILER-DAEMON …` yields nothing.
 */
function envelopeAddress(rest: string | undefined): string | undefined {
  if (rest === undefined) return undefined
  const word = /^[ \t]*(\S+)/.exec(rest)?.[1]
  return word === undefined ? undefined : firstAddrSpec(word)
}
