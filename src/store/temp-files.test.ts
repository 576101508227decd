// Temporary files of atomic writes that a killed run left behind (issue 11, "smaller, same
// family"): before, nothing ever removed `.INBOX.imap.<hex>.tmp` or `.INBOX.imap.compact.<hex>.tmp`
// and `local check` did not mention them. Now the next writer removes exactly those that provably
// are ours and stale, and `local check` reports them; lookalikes are never touched.
import {mkdir, mkdtemp, readdir, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {memoryLogger, silentLogger} from '../shared/logger.js'
import {AccountStore} from './account-store.js'
import {FolderStore} from './folder-store.js'
import {checkAccount} from './integrity.js'
import {findStaleTempFiles} from './temp-files.js'

let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailkeep-temps-'))
})

afterEach(async () => {
  await rm(root, {recursive: true, force: true})
})

async function folder(name: string): Promise<void> {
  const f = await FolderStore.open(root, name, {mode: 'write', logger: silentLogger})
  await f.initialize(1)
  await f.close()
}

const STALE = ['.INBOX.imap.0123456789ab.tmp', '.INBOX.mailkeep.0a0a0a0a0a0a.tmp', '.INBOX.mailkeep.compact.0b0b0b0b0b0b.tmp', '.INBOX.imap.compact.abcdef012345.tmp', 'Work/.Projects.imap.ffffffffffff.tmp']
const LOOKALIKES = [
  '.Other.imap.0123456789ab.tmp', // no folder Other beside it
  '.INBOX.imap.0123.tmp', // not 12 hex digits
  '.INBOX.imap.0123456789AB.tmp', // upper case: not what atomicWriteChunks writes
  '.INBOX.mbox.0123456789ab.tmp', // not a name mailkeep writes
  'INBOX.imap.0123456789ab.tmp', // no leading dot
]

async function plant(): Promise<void> {
  await folder('INBOX')
  await folder('Work/Projects')
  for (const name of [...STALE, ...LOOKALIKES]) await writeFile(join(root, name), 'partial {"version":3', {mode: 0o600})
  await symlink(join(root, 'INBOX.imap'), join(root, '.INBOX.imap.111111111111.tmp'))
  await mkdir(join(root, '.INBOX.imap.222222222222.tmp'))
}

async function names(): Promise<string[]> {
  const out: string[] = []
  for (const dir of ['', 'Work/']) for (const n of await readdir(join(root, dir))) if (n !== '.mailkeep.lock') out.push(`${dir}${n}`)
  return out.sort()
}

describe('temporary files left by a killed run', () => {
  it('are found by name, beside their folder, only when regular files', async () => {
    await plant()
    const found = await findStaleTempFiles(root)
    expect(found.map((f) => f.path).sort()).toEqual(STALE.map((n) => join(root, n)).sort())
    expect(found.find((f) => f.path.endsWith('Projects.imap.ffffffffffff.tmp'))?.folderBase).toBe('Work/Projects')
  })

  it('local check reports them as warnings of their folder, and removes nothing', async () => {
    await plant()
    const before = await names()
    const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
    try {
      const folders = await checkAccount(root)
      const stale = folders.flatMap((f) => f.findings.filter((x) => x.code === 'stale-temp').map((x) => [f.name, x.severity, x.file]))
      expect(stale.sort()).toEqual(STALE.map((n) => [n.startsWith('Work/') ? 'Work/Projects' : 'INBOX', 'warning', join(root, n)]).sort())
    } finally {
      await store.close()
    }
    expect(await names()).toEqual(before)
  })

  it('the next writer removes exactly those, and says so', async () => {
    await plant()
    const before = await names()
    const logger = memoryLogger()
    const store = await AccountStore.open(root, {mode: 'write', logger})
    await store.close()
    expect(await names()).toEqual(before.filter((n) => !STALE.includes(n)))
    expect(logger.records.some((r) => r.level === 'warn' && new RegExp(`removed ${STALE.length} temporary file\\(s\\)`).test(r.message))).toBe(true)
    // Only the planted symlink is left to report (a symlink is a finding of its own, never removed).
    expect((await checkAccount(root)).flatMap((f) => f.findings.map((x) => x.code))).toEqual(['symlink'])
  })
})
