import {createHash} from 'node:crypto'
import {appendFile, mkdir, readdir, readFile, rename, stat, symlink, truncate, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {silentLogger} from '../shared/logger.js'
import {makeTempDir, removeTempDir} from '../../test/support/temp-dir.js'
import {FolderStore} from './folder-store.js'
import {checkAccount, checkFolder, MAX_FINDINGS_PER_CODE, UNVERIFIED_UID_VALIDITY, type Finding} from './integrity.js'

let root: string

beforeEach(async () => {
  root = await makeTempDir('mailkeep-integrity-')
})
afterEach(async () => {
  await removeTempDir(root)
})

const repairCommand = (folder: string): string => `mailkeep local repair me@example.test ${folder}`

/** A folder written by mailkeep: CRLF messages with their exactness records. */
async function mailkeepFolder(name: string, uids: number[]): Promise<FolderStore> {
  const folder = await FolderStore.open(root, name, {mode: 'write', logger: silentLogger})
  await folder.initialize(42)
  const tx = await folder.begin()
  for (const uid of uids) {
    await tx.append({uid, flags: ['\\Seen'], internalDate: new Date(1_700_000_000_000)}, Buffer.from(`From: a${uid}@example.test\r\nSubject: m${uid}\r\n\r\nbody ${uid}\r\nFrom here\r\n`))
  }
  await tx.commit()
  await folder.close()
  return folder
}

/** imap-backup's own two-message folder (compat §9.2 66–75): its entries and its .imap. */
async function imapBackupFolder(name = 'my_folder'): Promise<{mbox: string; imap: string; entries: string[]}> {
  const entries = [
    'From address@example.org\n>From: address@example.org\nSubject: Test 1\n\nbody 1\nHi\n\n',
    'From address@example.org\n>From: address@example.org\nSubject: Test 2\n\nbody 2\n\n',
  ]
  const mbox = join(root, `${name}.mbox`)
  const imap = join(root, `${name}.imap`)
  await writeFile(mbox, entries.join(''))
  const a = Buffer.byteLength(entries[0]!)
  const b = Buffer.byteLength(entries[1]!)
  await writeFile(imap, JSON.stringify({version: 3, uid_validity: 42, messages: [{uid: 1, offset: 0, length: a, flags: []}, {uid: 2, offset: a, length: b, flags: ['Seen']}]}))
  return {mbox, imap, entries}
}

async function check(relativePath: string): Promise<Finding[]> {
  return checkFolder(root, relativePath, {repairCommand})
}

const codes = (findings: Finding[]): string[] => findings.map((f) => f.code)

async function hashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const name of await readdir(dir, {recursive: true})) {
    const path = join(dir, name)
    if ((await stat(path)).isFile()) out.set(name, createHash('sha256').update(await readFile(path)).digest('hex'))
  }
  return out
}

describe("imap-backup's checks (compat §4.5, §9.2 66–73)", () => {
  it('66: a sound folder has no findings but that its messages are not byte-exact (imap-backup wrote them)', async () => {
    const {mbox} = await imapBackupFolder()
    const findings = await check('my_folder')
    expect(findings).toEqual([expect.objectContaining({code: 'not-byte-exact', severity: 'warning', file: mbox, repair: undefined, uids: [1, 2]})])
    expect(findings[0]!.message).toBe(
      '2 of 2 message(s) are not byte-exact and are read as imap-backup reads them (LF line endings, its padding kept): 2 written by imap-backup or another tool, with no exactness record: UIDs 1, 2',
    )
  })

  it('68: a .imap that is not JSON is corrupt', async () => {
    const {imap} = await imapBackupFolder()
    await writeFile(imap, 'not json')
    const findings = await check('my_folder')
    expect(findings[0]).toMatchObject({code: 'imap-corrupt', severity: 'error', file: imap, repair: repairCommand('my_folder')})
    expect(findings[0]!.message).toContain(`.imap file '${imap}' is corrupt`)
  })

  it('69: offsets out of order', async () => {
    const {imap} = await imapBackupFolder()
    const meta = JSON.parse(await readFile(imap, 'utf8'))
    meta.messages.reverse()
    await writeFile(imap, JSON.stringify(meta))
    const findings = await check('my_folder')
    expect(findings.find((f) => f.code === 'offsets-out-of-order')!.message).toContain('has offset data which is out of order')
  })

  it('70: a missing .mbox', async () => {
    const {mbox} = await imapBackupFolder()
    await unlink(mbox)
    const findings = await check('my_folder')
    expect(findings).toEqual([{code: 'mbox-missing', severity: 'error', message: `.mbox file '${mbox}' is missing`, file: mbox, repair: repairCommand('my_folder')}])
  })

  it('71: an extra metadata entry makes the mbox shorter than indicated', async () => {
    const {imap, mbox} = await imapBackupFolder()
    const meta = JSON.parse(await readFile(imap, 'utf8'))
    const last = meta.messages[1]
    meta.messages.push({uid: 3, offset: last.offset + last.length, length: 30, flags: []})
    await writeFile(imap, JSON.stringify(meta))
    const findings = await check('my_folder')
    expect(findings.find((f) => f.code === 'mbox-shorter')!.message).toContain(`.mbox file '${mbox}' is shorter than indicated by .imap file '${imap}'`)
    expect(findings.find((f) => f.code === 'message-not-at-offset')!.message).toContain('Message 3 not found at expected offset')
  })

  it('72: extra mbox bytes make it longer than indicated', async () => {
    const {mbox, imap} = await imapBackupFolder()
    await appendFile(mbox, 'From x\n\nmore\n\n')
    const findings = await check('my_folder')
    expect(codes(findings)).toEqual(['mbox-longer', 'not-byte-exact'])
    expect(findings[0]!.message).toContain(`.mbox file '${mbox}' is longer than indicated by .imap file '${imap}'`)
  })

  it('73: shifted offsets: Message 2 not found at expected offset', async () => {
    const {imap, mbox} = await imapBackupFolder()
    const meta = JSON.parse(await readFile(imap, 'utf8'))
    meta.messages[1].offset += 3
    meta.messages[1].length -= 3
    await writeFile(imap, JSON.stringify(meta))
    const findings = await check('my_folder')
    expect(findings.find((f) => f.code === 'message-not-at-offset')!.message).toBe(`Message 2 not found at expected offset ${meta.messages[1].offset} in file '${mbox}'`)
  })

  it('lists no messages but the mbox is not empty', async () => {
    const {imap, mbox} = await imapBackupFolder()
    await writeFile(imap, JSON.stringify({version: 3, uid_validity: 42, messages: []}))
    const findings = await check('my_folder')
    expect(findings.map((f) => f.message)).toEqual([`.imap file '${imap}' lists no messages, but .mbox file '${mbox}' is not empty`])
  })

  it('reports every finding that applies, not only the first', async () => {
    const {imap} = await imapBackupFolder()
    const meta = JSON.parse(await readFile(imap, 'utf8'))
    // Out of order, and the last entry points past the end, and a duplicate UID.
    meta.messages = [meta.messages[1], {...meta.messages[0], uid: 2}, {uid: 9, offset: 500, length: 10, flags: []}]
    await writeFile(imap, JSON.stringify(meta))
    const found = codes(await check('my_folder'))
    expect(found).toEqual(expect.arrayContaining(['offsets-out-of-order', 'mbox-shorter', 'message-not-at-offset', 'duplicate-uid']))
  })

  it('caps the findings of one code and counts the rest', async () => {
    await mailkeepFolder('INBOX', Array.from({length: MAX_FINDINGS_PER_CODE + 5}, (_, i) => i + 1))
    const imap = join(root, 'INBOX.imap')
    const meta = JSON.parse(await readFile(imap, 'utf8'))
    for (const m of meta.messages) m.offset += 1
    meta.mailkeep_messages = []
    await writeFile(imap, JSON.stringify(meta))
    const shifted = (await check('INBOX')).filter((f) => f.code === 'message-not-at-offset')
    expect(shifted).toHaveLength(MAX_FINDINGS_PER_CODE)
    expect(shifted[shifted.length - 1]!.message).toMatch(/\(and 5 more like this\)$/)
  })
})

describe("mailkeep's own checks", () => {
  it('a folder mailkeep wrote is OK, every record decoding its entry', async () => {
    await mailkeepFolder('INBOX', [1, 2, 3])
    expect(await check('INBOX')).toEqual([])
  })

  it('an exactness record whose size does not match its entry', async () => {
    await mailkeepFolder('INBOX', [1, 2])
    const exact = join(root, 'INBOX.mailkeep')
    const file = JSON.parse(await readFile(exact, 'utf8'))
    file.messages[1][3] += 1
    await writeFile(exact, JSON.stringify(file))
    const findings = await check('INBOX')
    expect(codes(findings)).toEqual(['exactness-mismatch'])
    expect(findings[0]!.message).toContain('UID 2')
  })

  it('an exactness record that does not decode as a record', async () => {
    await mailkeepFolder('INBOX', [1])
    const exact = join(root, 'INBOX.mailkeep')
    const file = JSON.parse(await readFile(exact, 'utf8'))
    file.messages[0][6] = 'x'
    await writeFile(exact, JSON.stringify(file))
    expect(codes(await check('INBOX'))).toEqual(['exactness-invalid'])
  })

  it('duplicate UIDs are a warning with the repair command', async () => {
    const {imap} = await imapBackupFolder()
    const meta = JSON.parse(await readFile(imap, 'utf8'))
    meta.messages[1].uid = 1
    await writeFile(imap, JSON.stringify(meta))
    const findings = await check('my_folder')
    expect(findings).toEqual([expect.objectContaining({code: 'not-byte-exact', uids: [1]}), expect.objectContaining({code: 'duplicate-uid', severity: 'warning', repair: repairCommand('my_folder')})])
  })

  it('a pending journal is a warning: the next backup finishes it', async () => {
    await mailkeepFolder('INBOX', [1])
    const folder = await FolderStore.open(root, 'INBOX', {mode: 'write', logger: silentLogger})
    const tx = await folder.begin({strategy: 'direct'})
    await tx.append({uid: 2, flags: [], internalDate: null}, Buffer.from('Subject: x\r\n\r\ny\r\n'))
    // Simulate a crash: the journal and the appended bytes stay (no commit, no rollback).
    const journal = join(root, 'INBOX.imap.journal')
    const saved = await readFile(journal)
    const mbox = await readFile(join(root, 'INBOX.mbox'))
    await tx.rollback()
    await writeFile(journal, saved)
    await writeFile(join(root, 'INBOX.mbox'), mbox)
    const findings = await check('INBOX')
    expect(findings).toEqual([expect.objectContaining({code: 'pending-journal', severity: 'warning'})])
    expect(findings[0]!.message).toContain('interrupted run')
    expect(findings[0]!.message).toContain('the next backup finishes it')
  })

  it('a journal that does not belong to the .imap is an error', async () => {
    await mailkeepFolder('INBOX', [1])
    await writeFile(join(root, 'INBOX.imap.journal'), `${JSON.stringify({j: 1, id: 'x', uid_validity: 42, base_count: 7, base_end: 1})}\n`)
    expect(codes(await check('INBOX'))).toEqual(['journal-mismatch'])
  })

  it('a journal from a newer mailkeep is reported without a repair command, and nothing else is said', async () => {
    await mailkeepFolder('INBOX', [1])
    await appendFile(join(root, 'INBOX.mbox'), 'From x\n\nmore') // what that journal may explain
    const newer = `${JSON.stringify({j: 3, id: 'x', uid_validity: 42, base_count: 1, base_end: 1})}\n`
    await writeFile(join(root, 'INBOX.imap.journal'), newer)
    const findings = await check('INBOX')
    expect(findings).toEqual([expect.objectContaining({code: 'newer-format', severity: 'error', repair: undefined, file: join(root, 'INBOX.imap.journal')})])
    expect(findings[0]!.message).toContain('was written by a newer mailkeep (journal format 3)')
    await unlink(join(root, 'INBOX.imap'))
    expect(await check('INBOX')).toEqual([expect.objectContaining({code: 'newer-format', repair: undefined})])
  })

  it('an interrupted rename or rewrite is a warning', async () => {
    await mailkeepFolder('INBOX', [1])
    await writeFile(join(root, 'INBOX.rename'), JSON.stringify({to: 'INBOX-42'}))
    expect(await check('INBOX')).toEqual([expect.objectContaining({code: 'interrupted-operation', severity: 'warning'})])
  })

  it('a symlinked mbox is reported and not followed', async () => {
    const {mbox} = await imapBackupFolder()
    await rename(mbox, join(root, 'elsewhere'))
    await symlink(join(root, 'elsewhere'), mbox)
    const findings = await check('my_folder')
    expect(findings).toEqual([expect.objectContaining({code: 'symlink', severity: 'error', file: mbox, repair: undefined})])
  })

  it('a symlinked directory on the way is reported', async () => {
    await mkdir(join(root, 'real'))
    await symlink(join(root, 'real'), join(root, 'Archive'))
    await writeFile(join(root, 'real', 'x.imap'), '{}')
    expect(codes(await check('Archive/x'))).toEqual(['symlink'])
  })

  it('an mbox without .imap', async () => {
    await writeFile(join(root, 'Lost.mbox'), 'From a\n\nb\n\n')
    expect(await check('Lost')).toEqual([expect.objectContaining({code: 'mbox-without-imap', severity: 'error'})])
  })

  it('a newer format is reported without a repair command', async () => {
    await mailkeepFolder('INBOX', [1])
    const imap = join(root, 'INBOX.imap')
    const meta = JSON.parse(await readFile(imap, 'utf8'))
    meta.mailkeep.format = 99
    await writeFile(imap, JSON.stringify(meta))
    expect(await check('INBOX')).toEqual([expect.objectContaining({code: 'newer-format', severity: 'error', repair: undefined})])
  })

  it('UIDs a repair could not verify are a warning', async () => {
    const {imap} = await imapBackupFolder()
    const meta = JSON.parse(await readFile(imap, 'utf8'))
    meta.uid_validity = UNVERIFIED_UID_VALIDITY
    await writeFile(imap, JSON.stringify(meta))
    expect(await check('my_folder')).toEqual([expect.objectContaining({code: 'unverified-uids', severity: 'warning'}), expect.objectContaining({code: 'not-byte-exact'})])
  })

  it('a version 2 file whose mbox holds another number of messages', async () => {
    const {imap} = await imapBackupFolder()
    await writeFile(imap, JSON.stringify({version: 2, uid_validity: 42, uids: [1, 2, 3]}))
    expect(codes(await check('my_folder'))).toEqual(['v2-mismatch'])
  })
})

describe('checkAccount', () => {
  it('finds every folder, orphans included, and changes no byte of a damaged backup', async () => {
    await mailkeepFolder('INBOX', [1, 2])
    await mailkeepFolder('Archive/2024', [5])
    const {imap} = await imapBackupFolder('my%3a;folder')
    await writeFile(imap, '{"version":3,"uid_val')
    await writeFile(join(root, 'Orphan.mbox'), 'From a\n\nb\n\n')
    await truncate(join(root, 'Archive', '2024.mbox'), 10)
    const before = await hashes(root)
    const results = await checkAccount(root, {repairCommand})
    expect(await hashes(root)).toEqual(before)
    expect(results.map((r) => [r.name, codes(r.findings)])).toEqual([
      ['Archive/2024', ['mbox-shorter']],
      ['INBOX', []],
      ['Orphan', ['mbox-without-imap']],
      ['my:folder', ['imap-corrupt']],
    ])
  })

  it('reports a symlinked directory inside the root', async () => {
    await mailkeepFolder('INBOX', [1])
    const outside = await makeTempDir('mailkeep-outside-')
    try {
      await symlink(outside, join(root, 'Linked'))
      const results = await checkAccount(root, {repairCommand})
      expect(results.find((r) => r.name === 'Linked')!.findings).toEqual([expect.objectContaining({code: 'symlink'})])
    } finally {
      await removeTempDir(outside)
    }
  })
})

describe('the exactness file', () => {
  it('messages another tool changed since mailkeep stored them are listed apart from those it wrote', async () => {
    await mailkeepFolder('INBOX', [1, 2, 3])
    const imap = join(root, 'INBOX.imap')
    const meta = JSON.parse(await readFile(imap, 'utf8'))
    // UID 3 rewritten in imap-backup's form (a `>` more on its From line) at the same offset.
    const mbox = join(root, 'INBOX.mbox')
    const bytes = await readFile(mbox)
    const last = meta.messages[2]
    const rewritten = Buffer.from(bytes.subarray(last.offset, last.offset + last.length).toString('latin1').replace('\nFrom: a3', '\n>From: a3'), 'latin1')
    await writeFile(mbox, Buffer.concat([bytes.subarray(0, last.offset), rewritten]))
    last.length = rewritten.length
    await writeFile(imap, JSON.stringify({version: 3, uid_validity: 42, messages: meta.messages}))
    const findings = await check('INBOX')
    expect(findings).toEqual([expect.objectContaining({code: 'not-byte-exact', severity: 'warning', uids: [3], repair: undefined})])
    expect(findings[0]!.message).toBe(
      '1 of 3 message(s) are not byte-exact and are read as imap-backup reads them (LF line endings, its padding kept): 1 changed by another tool since mailkeep stored them, so their exactness records no longer match: UIDs 3',
    )
  })

  it('a missing exactness file is said as such', async () => {
    await mailkeepFolder('INBOX', [1, 2])
    await unlink(join(root, 'INBOX.mailkeep'))
    const findings = await check('INBOX')
    expect(findings).toEqual([expect.objectContaining({code: 'not-byte-exact', uids: [1, 2]})])
    expect(findings[0]!.message).toContain('2 their exactness file is missing: UIDs 1, 2')
  })

  it('a damaged one is a warning, and its messages are not byte-exact', async () => {
    await mailkeepFolder('INBOX', [1])
    const exact = join(root, 'INBOX.mailkeep')
    await writeFile(exact, 'garbage')
    const findings = await check('INBOX')
    expect(codes(findings)).toEqual(['exact-file-damaged', 'not-byte-exact'])
    expect(findings[0]).toMatchObject({severity: 'warning', file: exact})
    expect(findings[1]!.message).toContain('their exactness file is damaged')
  })

  it("a newer mailkeep's is an error without a repair command", async () => {
    await mailkeepFolder('INBOX', [1])
    const exact = join(root, 'INBOX.mailkeep')
    await writeFile(exact, (await readFile(exact, 'utf8')).replace('"mailkeep_exact":1', '"mailkeep_exact":5'))
    expect(await check('INBOX')).toEqual([expect.objectContaining({code: 'newer-format', severity: 'error', repair: undefined, file: exact})])
  })

  it('one left alone when imap-backup removed its folder is found and reported, not taken for damage', async () => {
    await mailkeepFolder('INBOX', [1])
    await unlink(join(root, 'INBOX.imap'))
    await unlink(join(root, 'INBOX.mbox'))
    const folders = await checkAccount(root, {repairCommand})
    expect(folders).toEqual([{name: 'INBOX', relativePath: 'INBOX', findings: [expect.objectContaining({code: 'exact-file-orphan', severity: 'warning', file: join(root, 'INBOX.mailkeep')})]}])
  })
})

