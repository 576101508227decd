/**
 * Restored copies that an interrupted restore into the folder itself left unrecorded
 * (docs/upload-maps.md, "After a crash"): the restore was stopped between its APPENDs and
 * recording their UIDs, so the folder's own `.restore` entry still names those messages in its
 * pending intent `{from, uids}`. A backup that downloaded the copies meanwhile finds each one
 * here, by its bytes, among the stored UIDs at or above `from`, as the restore's rerun finds it
 * on the server: without the pair, a copy or mirror to another account before that rerun counted
 * the copy and its original as two messages and appended both (U7; found by the sequence soak,
 * seed 510608653 on Cyrus).
 *
 * Only the backup's own bytes are compared, no server is asked: the original as it was uploaded
 * (upload form, below) against the copy as the server sent it back, as sent first and then in a
 * form the server is known to rewrite a message to (server-rewrites.ts), lowest UID first, one
 * copy per original.
 */
import type {FolderStore} from './folder-store.js'
import type {CopyPair} from './message-identity.js'
import type {UploadMapEntry} from './upload-map.js'
import {legacyToUpload} from './mboxrd/index.js'
import {bareLineFeeds, crlfHash} from './crlf-hash.js'
import {rewrittenForms} from './server-rewrites.js'

interface Original {
  uid: number
  /** CRLF size as sent, and the hash of each form: as sent first, then the rewritten ones. */
  forms: Array<{size: number; hash: () => string}>
}

/**
 * `[copy, original]` pairs for the pending intent of `entry` (the folder's own entry of its own
 * restore map, under the folder's UIDVALIDITY on both sides). `taken`: UIDs already known as
 * the copy of a message (pairs recorded before), never taken for another's. The folder must hold
 * the candidates committed (a savepoint first).
 */
export async function pendingRestoredCopies(folder: FolderStore, entry: UploadMapEntry | undefined, taken: ReadonlySet<number>): Promise<CopyPair[]> {
  const uv = folder.uidValidity
  const pending = entry?.pending
  if (entry === undefined || pending === undefined || entry.clash || uv === undefined) return []
  if (entry.sourceUidValidity !== uv || entry.destinationUidValidity !== uv) return []
  const mapped = new Set(entry.map.values())
  const originals: Original[] = []
  for (const uid of pending.uids) {
    if (!folder.has(uid) || entry.map.has(uid)) continue
    originals.push(await uploadForms(folder, uid))
  }
  if (originals.length === 0) return []
  const named = new Set(pending.uids)
  const candidates: Array<{uid: number; size: number; hash: string | undefined}> = []
  for (const m of folder.messages) {
    if (m.uid < pending.from || mapped.has(m.uid) || taken.has(m.uid) || named.has(m.uid)) continue
    candidates.push({uid: m.uid, size: -1, hash: undefined})
  }
  candidates.sort((a, b) => a.uid - b.uid)
  const pairs: CopyPair[] = []
  const used = new Set<number>()
  const left = new Set(originals.map((o) => o.uid))
  // Every original as sent first, then the rewritten forms (a destination may hold both).
  const rounds = Math.max(...originals.map((o) => o.forms.length))
  for (let form = 0; form < rounds; form++) {
    for (const original of originals) {
      const wanted = original.forms[form]
      if (wanted === undefined || !left.has(original.uid)) continue
      for (const c of candidates) {
        if (used.has(c.uid)) continue
        if (c.size < 0) c.size = await copySize(folder, c.uid)
        if (c.size !== wanted.size) continue
        c.hash ??= crlfHash((await folder.readMessage(c.uid)).bytes)
        if (c.hash !== wanted.hash()) continue
        pairs.push([c.uid, original.uid])
        used.add(c.uid)
        left.delete(original.uid)
        break
      }
    }
  }
  return pairs
}

/** The message as a restore uploads it (engine/upload/message.ts), with its forms. */
async function uploadForms(folder: FolderStore, uid: number): Promise<Original> {
  const stored = await folder.readMessage(uid)
  const bytes = stored.exact ? stored.bytes : legacyToUpload(stored.bytes)
  const size = bytes.length + bareLineFeeds(bytes)
  let own: string | undefined
  return {
    uid,
    forms: [{size, hash: () => (own ??= crlfHash(bytes))}, ...rewrittenForms(bytes).map((f) => ({size: size + f.sizeDelta, hash: () => f.hash()}))],
  }
}

/** A stored copy's size as a CRLF server counts it: its exactness record's, or read. */
async function copySize(folder: FolderStore, uid: number): Promise<number> {
  const recorded = folder.exactness(uid)
  if (recorded !== undefined) return recorded[1]
  const {bytes} = await folder.readMessage(uid)
  return bytes.length + bareLineFeeds(bytes)
}
