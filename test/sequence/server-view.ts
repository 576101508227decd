/**
 * What an account holds on its server, read with the raw IMAP client of test/support (never
 * imapflow, which mailkeep uses): every folder LIST shows, and for each selectable one its
 * UIDVALIDITY and every message (UID, flags, the exact bytes of BODY.PEEK[]). One session per
 * snapshot; EXAMINE and PEEK change nothing on the server (RFC 3501 §6.3.2, §6.4.5).
 *
 * Messages are also given an identity `key`: the value of the `X-Seq-Id` header every message the
 * sequence test appends carries (its copies, made by restore or copy, carry it too), or for
 * anything else (ignore-history's placeholders, uploaded by restore) `sha:` and the digest of its
 * normalised bytes.
 */
import {decodeMailboxName, fetchItems, valueText, type ImapResponse, type RawImapClient} from '../support/raw-imap.js'
import {normalise, sha, storedForm} from './backup-reader.js'

export interface ServerMessage {
  uid: number
  /** Stored form (`Seen`, `$Label1`), sorted. */
  flags: string[]
  key: string
  /** Digest of the exact bytes, and of the normalised bytes (backup-reader.ts `normalise`). */
  exactSha: string
  normSha: string
  size: number
}

export interface ServerFolder {
  /** Decoded (UTF-8) name. */
  name: string
  /** The name on the wire (modified UTF-7, or whatever the server sent). */
  wire: string
  delimiter: string | null
  selectable: boolean
  uidValidity: number
  messages: ServerMessage[]
}

export interface AccountView {
  /** By wire name: two folders can decode to one name. */
  folders: Map<string, ServerFolder>
}

const SEQ_ID = /^X-Seq-Id: *([A-Za-z0-9._-]+)\r?$/im

export function messageKey(raw: Buffer): string {
  const head = raw.subarray(0, Math.min(raw.length, 4096)).toString('latin1')
  const end = head.search(/\r?\n\r?\n/)
  const match = SEQ_ID.exec(end < 0 ? head : head.slice(0, end))
  return match ? match[1]! : `sha:${sha(normalise(raw))}`
}

function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value)
}

function uidValidityOf(responses: readonly ImapResponse[]): number {
  for (const r of responses) {
    const m = /^UIDVALIDITY (\d+)/i.exec(r.code ?? '')
    if (m) return Number(m[1])
  }
  throw new Error('EXAMINE without UIDVALIDITY')
}

async function readFolder(c: RawImapClient, folder: ServerFolder): Promise<void> {
  const quoted = `"${folder.wire.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`
  const examined = await c.command(`EXAMINE ${quoted}`)
  folder.uidValidity = uidValidityOf(examined.untagged)
  const exists = examined.untagged.find((r) => r.kind === 'EXISTS')?.number ?? 0
  if (exists === 0) return
  const fetched = await c.command('UID FETCH 1:* (UID FLAGS BODY.PEEK[])')
  for (const r of fetched.untagged) {
    if (r.kind !== 'FETCH') continue
    const items = fetchItems(r)
    const body = items.get('BODY[]')
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(text(body ?? ''), 'utf8')
    const flags = items.get('FLAGS')
    folder.messages.push({
      uid: Number(items.get('UID')),
      flags: storedForm(Array.isArray(flags) ? flags.map((f) => valueText(f)) : []),
      key: messageKey(raw),
      exactSha: sha(raw),
      normSha: sha(normalise(raw)),
      size: raw.length,
    })
  }
  folder.messages.sort((a, b) => a.uid - b.uid)
}

/** The account as a client sees it now, through a logged-in session (left with a folder examined). */
export async function viewAccount(c: RawImapClient): Promise<AccountView> {
  const listed = await c.command('LIST "" "*"')
  const folders = new Map<string, ServerFolder>()
  for (const r of listed.untagged) {
    if (r.kind !== 'LIST') continue
    const [attrs, delimiter, name] = r.values
    const wire = text(name)
    const flags = Array.isArray(attrs) ? attrs.map((a) => text(a).toLowerCase()) : []
    folders.set(wire, {
      name: decodeMailboxName(wire),
      wire,
      delimiter: typeof delimiter === 'string' ? delimiter : null,
      selectable: !flags.includes('\\noselect') && !flags.includes('\\nonexistent'),
      uidValidity: 0,
      messages: [],
    })
  }
  for (const folder of folders.values()) if (folder.selectable) await readFolder(c, folder)
  return {folders}
}

/** Every message of the account by key: how many copies, in which folders. */
export function copiesByKey(view: AccountView): Map<string, number> {
  const out = new Map<string, number>()
  for (const f of view.folders.values()) for (const m of f.messages) out.set(m.key, (out.get(m.key) ?? 0) + 1)
  return out
}
