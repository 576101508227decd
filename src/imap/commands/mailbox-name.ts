/**
 * A mailbox argument on the wire. Names are sent in modified UTF-7 (RFC 3501 §5.1.3) unless the
 * session knows the exact wire form from LIST (a name whose `&…-` runs do not round-trip), and
 * as a quoted string, or as a literal when a quoted string cannot carry it.
 */
import type {WireNode} from '../flow-internals.js'
import {encodeMailboxName} from '../mutf7.js'

export class MailboxNames {
  /** Decoded name → name as the server listed it, for names that do not round-trip. */
  private readonly wireForms = new Map<string, string>()

  remember(name: string, wire: string): void {
    if (encodeMailboxName(name) !== wire) this.wireForms.set(name, wire)
    else this.wireForms.delete(name)
  }

  wire(name: string): string {
    return this.wireForms.get(name) ?? encodeMailboxName(name)
  }

  node(name: string): WireNode {
    return mailboxNode(this.wire(name))
  }
}

export function mailboxNode(wire: string): WireNode {
  // A quoted string cannot hold CR, LF or NUL, and holds only 7-bit text (RFC 3501 §4.3).
  if (/[\r\n\0\u0080-\uffff]/.test(wire)) return {type: 'LITERAL', value: Buffer.from(wire, 'utf8')}
  return {type: 'STRING', value: wire}
}
