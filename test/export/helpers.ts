/**
 * Helpers of the export tests: a backup built through the store API (corpus messages, flags,
 * INTERNALDATEs, folders with hostile names, and an imap-backup-written folder), a config file,
 * a fake Thunderbird data directory, snapshots of directory trees, and Python's `mailbox`
 * module as the independent reader of what was exported.
 */
import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import {lstat, mkdir, readdir, readFile, readlink, writeFile} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {promisify} from 'node:util'
import {loadConfig, type Config} from '../../src/config/index.js'
import {AccountStore} from '../../src/store/account-store.js'
import {encodeFolderPath} from '../../src/store/folder-path.js'
import {silentLogger} from '../../src/shared/logger.js'

const run = promisify(execFile)

export const EMAIL = 'alice@example.test'
export const UID_VALIDITY = 1700

export interface SeedMessage {
  uid: number
  raw: Buffer
  /** IMAP form (`\Seen`). */
  flags: string[]
  /** INTERNALDATE in ms, or null. */
  internalDate: number | null
}

export interface SeedFolder {
  name: string
  messages: SeedMessage[]
}

/** Writes the folders through the store (exclusive lock, transactions), as a backup would. */
export async function seedBackup(root: string, folders: SeedFolder[]): Promise<void> {
  const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger, account: EMAIL})
  try {
    for (const spec of folders) {
      const folder = await store.folder(spec.name)
      if (!folder.exists) await folder.initialize(UID_VALIDITY)
      const tx = await folder.begin()
      for (const m of spec.messages) {
        await tx.append({uid: m.uid, flags: m.flags, internalDate: m.internalDate === null ? null : new Date(m.internalDate)}, m.raw)
      }
      await tx.commit()
    }
  } finally {
    await store.close()
  }
}

/** Replaces the stored flags of some messages (a later backup run with --refresh would). */
export async function updateFlags(root: string, folderName: string, flags: Record<number, string[]>): Promise<void> {
  const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger, account: EMAIL})
  try {
    const folder = await store.folder(folderName)
    const tx = await folder.begin()
    for (const [uid, f] of Object.entries(flags)) await tx.updateFlags(Number(uid), f)
    await tx.commit()
  } finally {
    await store.close()
  }
}

/**
 * A folder as imap-backup 16 writes it (compat §4.2, §4.3): LF text, `>` before every line
 * matching `^>*From` except the first, padding to a blank line, metadata v3 without mailkeep's
 * records. Returns imap-backup's stored text of each message (what mailkeep reads back).
 */
export async function writeLegacyFolder(root: string, name: string, messages: Array<{uid: number; text: string; flags: string[]}>): Promise<string[]> {
  const path = join(root, encodeFolderPath(name))
  let mbox = ''
  const entries: Array<{uid: number; offset: number; length: number; flags: string[]}> = []
  const stored: string[] = []
  for (const m of messages) {
    let body = m.text.replace(/\r\n/g, '\n').replace(/\n(>*From)/g, '\n>$1')
    if (!body.endsWith('\n')) body += '\n'
    if (!body.endsWith('\n\n')) body += '\n'
    const entry = `From legacy@example.test\n${body}`
    entries.push({uid: m.uid, offset: Buffer.byteLength(mbox), length: Buffer.byteLength(entry), flags: m.flags})
    mbox += entry
    stored.push(body.replace(/\n>(>*From)/g, '\n$1'))
  }
  await mkdir(join(path, '..'), {recursive: true, mode: 0o700})
  await writeFile(`${path}.mbox`, mbox, {mode: 0o600})
  await writeFile(`${path}.imap`, JSON.stringify({version: 3, uid_validity: 42, messages: entries}), {mode: 0o600})
  return stored
}

/** A config file (0600) with one account whose backup is `root`; returns its path. */
export async function writeConfigFile(path: string, root: string): Promise<string> {
  await mkdir(join(path, '..'), {recursive: true, mode: 0o700})
  const config = {version: '2.2', accounts: [{username: EMAIL, password: 'secret-password-1', local_path: root, server: 'imap.example.test'}]}
  await writeFile(path, JSON.stringify(config, null, 2), {mode: 0o600})
  return path
}

export async function makeConfig(path: string, root: string): Promise<Config> {
  return loadConfig(await writeConfigFile(path, root))
}

export interface FakeProfile {
  name: string
  /** Directory name below the data directory (IsRelative=1). */
  dir: string
  isDefault?: boolean
  /** Create `<profile>/Mail/Local Folders` (Thunderbird does at its first start). Default true. */
  localFolders?: boolean
}

/**
 * A Thunderbird data directory with profiles.ini: one Install section per entry of `installs`
 * (each naming its default profile's directory), one Profile section per profile.
 */
export async function fakeThunderbird(dataDir: string, profiles: FakeProfile[], installs: string[]): Promise<void> {
  await mkdir(dataDir, {recursive: true})
  const lines: string[] = []
  installs.forEach((dir, i) => lines.push(`[Install${(0xabcdef01 + i).toString(16).toUpperCase()}]`, `Default=${dir}`, 'Locked=1', ''))
  profiles.forEach((p, i) => {
    lines.push(`[Profile${i}]`, `Name=${p.name}`, 'IsRelative=1', `Path=${p.dir}`)
    if (p.isDefault === true) lines.push('Default=1')
    lines.push('')
  })
  lines.push('[General]', 'StartWithLastProfile=1', 'Version=2', '')
  await writeFile(join(dataDir, 'profiles.ini'), lines.join('\n'))
  for (const p of profiles) {
    await mkdir(join(dataDir, p.dir), {recursive: true})
    if (p.localFolders !== false) await mkdir(join(dataDir, p.dir, 'Mail', 'Local Folders'), {recursive: true})
  }
}

/** Every entry below `dir` (relative paths, `/` separated) with a hash of each file's bytes. */
export async function snapshotTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (d: string): Promise<void> => {
    for (const entry of (await readdir(d, {withFileTypes: true})).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(d, entry.name)
      const rel = relative(dir, path)
      if (entry.isSymbolicLink()) out.set(rel, `link:${await readlink(path)}`)
      else if (entry.isDirectory()) {
        out.set(`${rel}/`, 'dir')
        await walk(path)
      } else {
        const info = await lstat(path)
        out.set(rel, `${createHash('sha256').update(await readFile(path)).digest('hex')}:${info.mtimeMs}:${info.mode}`)
      }
    }
  }
  await walk(dir)
  return out
}

// ---------------------------------------------------------------------------------------
// Python's mailbox module: the independent reader.

export interface PyMboxMessage {
  /** The separator line, without its LF. */
  from: string
  /** `get_bytes()`: the message as Python's mbox returns it (not unquoted). */
  bytes: Buffer
}

const MBOX_SCRIPT = `
import base64, json, mailbox, sys
box = mailbox.mbox(sys.argv[1], create=False)
out = []
for key in box.keys():
    msg = box.get_message(key)
    out.append({"from": msg.get_from(), "bytes": base64.b64encode(box.get_bytes(key)).decode()})
print(json.dumps(out))
`

export async function readMboxWithPython(path: string): Promise<PyMboxMessage[]> {
  const {stdout} = await run('python3', ['-c', MBOX_SCRIPT, path], {maxBuffer: 256 * 1024 * 1024})
  return (JSON.parse(stdout) as Array<{from: string; bytes: string}>).map((m) => ({from: m.from, bytes: Buffer.from(m.bytes, 'base64')}))
}

export interface PyMaildirMessage {
  /** The file name (unique part and info). */
  name: string
  subdir: string
  flags: string
  bytes: Buffer
}

const MAILDIR_SCRIPT = `
import base64, json, mailbox, os, sys
box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
out = []
for key in sorted(box.keys()):
    msg = box.get_message(key)
    out.append({
        "name": os.path.basename(box._lookup(key)),
        "subdir": msg.get_subdir(),
        "flags": msg.get_flags(),
        "bytes": base64.b64encode(box.get_bytes(key)).decode(),
    })
print(json.dumps(out))
`

export async function readMaildirWithPython(path: string): Promise<PyMaildirMessage[]> {
  const {stdout} = await run('python3', ['-c', MAILDIR_SCRIPT, path], {maxBuffer: 256 * 1024 * 1024})
  return (JSON.parse(stdout) as Array<Omit<PyMaildirMessage, 'bytes'> & {bytes: string}>).map((m) => ({...m, bytes: Buffer.from(m.bytes, 'base64')}))
}

// ---------------------------------------------------------------------------------------
// mboxrd, computed independently of src/ for the expectations.

/** `>` before every line matching `^>*From ` (the first line included). */
export function mboxrdQuote(message: Buffer): Buffer {
  const text = message.toString('latin1')
  return Buffer.from(text.replace(/(^|\n)(>*From )/g, '$1>$2'), 'latin1')
}

/** The inverse: one `>` less on every line matching `^>+From `. */
export function mboxrdUnquote(message: Buffer): Buffer {
  const text = message.toString('latin1')
  return Buffer.from(text.replace(/(^|\n)>(>*From )/g, '$1$2'), 'latin1')
}

/** What a reader of the exported mbox gets for `message`: quoted, and ending with LF. */
export function expectedInMbox(message: Buffer): Buffer {
  const quoted = mboxrdQuote(message)
  return quoted.length > 0 && quoted[quoted.length - 1] === 0x0a ? quoted : Buffer.concat([quoted, Buffer.from('\n')])
}
