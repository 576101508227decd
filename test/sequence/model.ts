/**
 * What the sequence test knows beyond the current state of the servers and the backup (which it
 * reads afresh after every step): the history that decides what the backup may and must hold.
 *
 *  - `history`: every message ever seen in a folder of account A, by (folder name, UIDVALIDITY,
 *    UID): its identity key and digests. A backup entry must be one of these (no invented or
 *    altered message); a UID names one message for the life of a UIDVALIDITY (RFC 3501
 *    §2.3.1.1), so the entry under it must be that message.
 *  - `userCopies`: how many messages with a given key the user (the test) appended; the
 *    identity semantics of docs/upload-maps.md (U7) count copies mailkeep made as the same
 *    message.
 *  - `ignored`: (folder, UIDVALIDITY, UID) that `utils ignore-history` marked: their entry is the
 *    documented placeholder, not the message.
 *  - `unstorable`: server folders whose local path the test made impossible (too long, or
 *    blocking another): they may fail, and only they.
 *  - `olderThanPlaceholders`: local folder → the folders ignore-history wrote placeholders into
 *    after that folder's backup was last brought up to date by a backup (docs/backup.md, B5):
 *    mirror mode may keep such a folder once the server no longer has it selected.
 *  - `rebuilt`: local folders `local repair` rebuilt, whose unmatched messages may carry a UID
 *    the repair chose (docs/repair.md, "Messages that match nothing").
 */
import {dummyMessage} from '../../src/store/placeholders.js'
import {normalise, sha} from './backup-reader.js'
import {encodeMailboxName} from '../support/raw-imap.js'
import {messageKey, type AccountView} from './server-view.js'

export interface Seen {
  key: string
  exactSha: string
  normSha: string
}

const id = (folder: string, uidValidity: number, uid: number): string => `${folder}\u0000${uidValidity}\u0000${uid}`

export class Model {
  readonly history = new Map<string, Seen>()
  /** (folder, UIDVALIDITY) pairs seen on the server. */
  private readonly lives = new Set<string>()
  /** Keys seen in each folder family (any UIDVALIDITY). */
  readonly keysByFolder = new Map<string, Set<string>>()
  readonly userCopies = new Map<string, number>()
  readonly ignored = new Set<string>()
  private readonly ignoredUids = new Set<string>()
  readonly unstorable = new Set<string>()
  readonly rebuilt = new Set<string>()
  readonly olderThanPlaceholders = new Map<string, Set<string>>()
  /** The keys the user appended to each account while a run was going on (not bound by uploads). */
  readonly appendedDuring = new Map<string, number>()

  observe(view: AccountView): void {
    for (const f of view.folders.values()) {
      if (!f.selectable) continue
      // A spelling that is not the canonical modified UTF-7 of its name may be backed up under a
      // name made distinct, `name [spelling]` (issue 11 item 6): its history goes under both.
      const names = encodeMailboxName(f.name) === f.wire ? [f.name] : [f.name, `${f.name} [${f.wire}]`]
      for (const name of names) {
        this.lives.add(`${name}\u0000${f.uidValidity}`)
        let keys = this.keysByFolder.get(name)
        if (keys === undefined) this.keysByFolder.set(name, (keys = new Set()))
        for (const m of f.messages) {
          this.history.set(id(name, f.uidValidity, m.uid), {key: m.key, exactSha: m.exactSha, normSha: m.normSha})
          keys.add(m.key)
        }
      }
    }
  }

  /** The server had a folder of this name under this UIDVALIDITY. */
  hadFolder(folder: string, uidValidity: number): boolean {
    return this.lives.has(`${folder}\u0000${uidValidity}`)
  }

  seen(folder: string, uidValidity: number, uid: number): Seen | undefined {
    return this.history.get(id(folder, uidValidity, uid))
  }

  userAppended(key: string): void {
    this.userCopies.set(key, (this.userCopies.get(key) ?? 0) + 1)
  }

  ignore(folder: string, uidValidity: number, uid: number): void {
    this.ignored.add(id(folder, uidValidity, uid))
    this.ignoredUids.add(`${folder}\u0000${uid}`)
  }

  /** ignore-history wrote a placeholder for `uid` in this folder, under some UIDVALIDITY. */
  wasIgnored(folder: string, uid: number): boolean {
    return this.ignoredUids.has(`${folder}\u0000${uid}`)
  }

  isIgnored(folder: string, uidValidity: number, uid: number): boolean {
    return this.ignored.has(id(folder, uidValidity, uid))
  }
}

/** The key and digests of ignore-history's placeholder for `uid` (docs/commands/utils.md). */
export function placeholder(uid: number): Seen {
  const raw = dummyMessage(uid)
  return {key: messageKey(raw), exactSha: sha(raw), normSha: sha(normalise(raw))}
}

/**
 * The folder a local folder's backup came from: its own name, or for a backup kept aside after a
 * UIDVALIDITY change (`<name>-<its uidvalidity>` or `…-<n>`, docs/design.md) the name before the
 * suffix. A copy kept aside can be moved aside again, with the same suffix once more, when a
 * server folder takes its name (a restore into a clashing folder creates `<name>-<uidvalidity>`
 * on the server): with `model`, the suffixes are taken off until a name the server had under
 * that UIDVALIDITY, if there is one.
 */
export function familyOf(localName: string, uidValidity: number, model?: Model): string {
  const suffix = new RegExp(`^(.*)-${uidValidity}(?:-\\d+)?$`, 's')
  const first = suffix.exec(localName)?.[1] ?? localName
  if (model === undefined || model.hadFolder(first, uidValidity)) return first
  for (let name = first, m = suffix.exec(name); m !== null; m = suffix.exec(name)) {
    name = m[1]!
    if (model.hadFolder(name, uidValidity)) return name
  }
  return first
}
