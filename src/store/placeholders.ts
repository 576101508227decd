/**
 * ignore-history's placeholders (`utils ignore-history`, compat §2.2): a dummy message stored for
 * each UID the server had, so that the backup takes it as downloaded. They stand for mail the
 * backup does not hold, so what reads the backup tells them apart: uploads leave them out,
 * mirror mode keeps a kept-aside copy that may hold the real mail, repair rebuilds them.
 * Knowledge of what the store holds, used by backup, upload and repair alike.
 */
import type {FolderStore} from './folder-store.js'

/** The sender of every dummy message (imap-backup's). */
export const FAKE_EMAIL = 'fake@email.com'

/**
 * The dummy that stands for message `uid`: two headers and one line, no blank line between them
 * (imap-backup's; stored as `From fake@email.com\n` + this + `\n`).
 */
export function dummyMessage(uid: number): Buffer {
  return Buffer.from(`From: ${FAKE_EMAIL}\nSubject: Message ${uid} not backed up\nSkipped ${uid}\n`, 'utf8')
}

/**
 * Whether the stored message `uid` of `folder` is one of ignore-history's placeholders: its text
 * is exactly `dummyMessage(n)` for some `n` (imap-backup's entries read back with a trailing
 * newline more or less). Usually `n` is `uid`; not always: `local repair` keeps a placeholder
 * whose UID the server no longer has under a UID of its own choosing (docs/repair.md), and a
 * placeholder under any UID is still not mail (found by the sequence soak, seed 2436308718 on
 * Courier: a restore uploaded one). The entry's length rules out nearly every real message unread.
 */
export async function isPlaceholder(folder: FolderStore, uid: number, length: number): Promise<boolean> {
  // `From fake@email.com` + LF, the text, one LF more; imap-backup's separator adds a date.
  if (length < SHORTEST_ENTRY - 1 || length > LONGEST_ENTRY + 40) return false
  const {bytes} = await folder.readMessage(uid)
  const named = PLACEHOLDER_TEXT.exec(withoutFinalLfs(bytes).toString('latin1'))
  if (named === null || named[1] !== named[2]) return false
  const dummy = dummyMessage(Number(named[1]))
  return bytes.equals(dummy) || withoutFinalLfs(bytes).equals(withoutFinalLfs(dummy))
}

/** Whether `folder` holds at least one of ignore-history's placeholders. */
export async function holdsPlaceholders(folder: FolderStore): Promise<boolean> {
  for (const m of folder.messages) {
    if (await isPlaceholder(folder, m.uid, m.length)) return true
  }
  return false
}

/**
 * The UIDs of `folder`'s placeholders. Uploads leave them out (restore, copy, mirror, migrate):
 * a placeholder stands for mail the backup does not hold; it is not mail itself.
 */
export async function placeholderUids(folder: FolderStore): Promise<Set<number>> {
  const out = new Set<number>()
  for (const m of folder.messages) {
    if (await isPlaceholder(folder, m.uid, m.length)) out.add(m.uid)
  }
  return out
}

const FAKE_SEPARATOR = `From ${FAKE_EMAIL}\n`
/** The entry of the placeholder of a one-digit and of a ten-digit UID (RFC 3501: UIDs are 32-bit). */
const SHORTEST_ENTRY = FAKE_SEPARATOR.length + dummyMessage(1).length + 1
const LONGEST_ENTRY = FAKE_SEPARATOR.length + dummyMessage(4_294_967_295).length + 1
const PLACEHOLDER_TEXT = /^From: fake@email\.com\nSubject: Message ([1-9][0-9]{0,9}) not backed up\nSkipped ([1-9][0-9]{0,9})$/

function withoutFinalLfs(bytes: Buffer): Buffer {
  let end = bytes.length
  while (end > 0 && bytes[end - 1] === 0x0a) end--
  return bytes.subarray(0, end)
}

/**
 * The UIDs of `removing` that mirror mode must keep although the server no longer has them:
 * originals (`mailkeep_restored`, docs/design.md) of a restored copy that stays stored only as
 * a placeholder. ignore-history wrote that placeholder for the copy on the server, so the
 * original is the only real copy of the message the server still has (docs/backup.md, B5).
 * Found by the sequence test (Dovecot seed 598330131: restore, ignore-history, mirror backup).
 */
export async function originalsOfPlaceholders(folder: FolderStore, removing: readonly number[]): Promise<Set<number>> {
  const removed = new Set(removing)
  const keep = new Set<number>()
  for (const [copy, original] of folder.restoredCopies) {
    if (!removed.has(original) || removed.has(copy) || keep.has(original)) continue
    const entry = folder.entry(copy)
    if (entry !== undefined && (await isPlaceholder(folder, copy, entry.length))) keep.add(original)
  }
  return keep
}
