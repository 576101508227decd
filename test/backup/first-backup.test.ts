// A first backup equals the server: the whole corpus (what each server accepts of it) on every
// server in each of its namespace shapes and with every download strategy, plus imap-backup's
// backup acceptance checks (compat §9.2 items 1–7, 19; Dovecot, whose namespace they configure).
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {DownloadStrategy} from '../../src/config/index.js'
import {loadCorpus} from '../fixtures/corpus.js'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {appendMessages, createFolder, folderName, folderStatus, listUids} from '../support/mail-seed.js'
import {serverVariants, startServer, type TestServer} from '../support/servers.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountFile, backup, expectBackupEqualsServer, folderReport, makeConfig} from './helpers.js'

const STRATEGIES: DownloadStrategy[] = ['delay_metadata', 'direct', 'delay_all']

describe.each(serverVariants())('first backup, $title', ({kind, separator}) => {
  let dc: TestServer
  let corpusFolder: string
  let corpus: ReturnType<typeof loadCorpus>

  beforeAll(async () => {
    dc = await startServer(kind, {separator})
    // What the server accepts (Cyrus refuses bare LF; SERVER_FACTS and servers.test.ts).
    corpus = loadCorpus().filter((m) => dc.facts.stored(m.raw) !== undefined)
    corpusFolder = folderName(dc, 'Corpus')
    const user = dc.users[0]!
    await createFolder(dc, user, corpusFolder)
    await appendMessages(
      dc,
      user,
      corpusFolder,
      corpus.map((m, i) => ({
        raw: m.raw,
        flags: [[], ['\\Seen'], ['\\Seen', '\\Flagged', '$Label1'], ['\\Answered', '\\Draft'], ['$Forwarded']][i % 5]!,
        internalDate: new Date(Date.UTC(2022, 5, 1) + i * 3_600_000),
      })),
    )
    // Something in INBOX too, so that more than one folder is backed up.
    await appendMessages(dc, user, 'INBOX', corpus.slice(0, 3).map((m) => ({raw: m.raw})))
  })
  afterAll(async () => {
    await dc?.stop()
  })

  it.each(STRATEGIES)('stores every message byte for byte with strategy %s', async (strategy) => {
    const dir = await testTempDir()
    const user = dc.users[0]!
    const root = join(dir, 'backup')
    // Small savepoints and batches, so that several savepoints and batches happen.
    const config = await makeConfig(dir, [accountFile(dc, user, root, {multi_fetch_size: 4})], {download_strategy: strategy, savepoint_messages: 5})
    const report = await backup(config)
    expect(report.exitCode).toBe(0)
    expect(report.accounts[0]!.outcome).toBe('ok')
    const corpusReport = folderReport(report, corpusFolder)
    expect(corpusReport).toMatchObject({outcome: 'ok', new: corpus.length, failedMessages: []})
    const local = await expectBackupEqualsServer(dc, user, root, corpusFolder)
    expect(corpusReport.bytes).toBe(local.messages.reduce((n, m) => n + m.bytes.length, 0))
    expect(local.uidValidity).toBe((await folderStatus(dc, user, corpusFolder)).uidValidity)
    expect(local.uidNext).toBe((await folderStatus(dc, user, corpusFolder)).uidNext)
    await expectBackupEqualsServer(dc, user, root, 'INBOX')
  })
})

describe('imap-backup acceptance (compat §9.2)', () => {
  let dc: DovecotInstance
  beforeAll(async () => {
    dc = await startDovecot({separator: '.', prefix: ''})
  })
  afterAll(async () => {
    await dc?.stop()
  })

  // imap-backup's feature-test messages: `From: <from>\nSubject: <subject>\n\n<body>\n\n` in CRLF.
  const msg = (subject: string, body: string): Buffer => Buffer.from(`From: address@example.org\r\nSubject: ${subject}\r\n\r\n${body}\r\n\r\n`)
  const entry = (subject: string, body: string): string => `From address@example.org\nFrom: address@example.org\nSubject: ${subject}\n\n${body}\n\n`

  it('items 1–7: the .mbox is exactly imap-backup’s entries and the .imap has its fields', async () => {
    const user = dc.users[0]!
    const folder = 'stuff-to-backup'
    await createFolder(dc, user, folder)
    const uids = await appendMessages(dc, user, folder, [{raw: msg('Test 1', 'body 1\r\nHi')}, {raw: msg('Test 2', 'body 2')}])
    const dir = await testTempDir()
    const root = join(dir, 'backup')
    const config = await makeConfig(dir, [accountFile(dc, user, root, {folders: [folder]})])
    const report = await backup(config)
    expect(report.exitCode).toBe(0)

    const mbox = await readFile(join(root, `${folder}.mbox`), 'utf8')
    const e1 = entry('Test 1', 'body 1\nHi')
    const e2 = entry('Test 2', 'body 2')
    expect(mbox).toBe(e1 + e2) // 1
    const imap = JSON.parse(await readFile(join(root, `${folder}.imap`), 'utf8')) as Record<string, unknown> // 2
    expect(String(imap['version'])).toMatch(/^\d$/) // 3
    const messages = imap['messages'] as Array<{uid: number; offset: number; length: number}>
    expect(messages.map((m) => m.uid)).toEqual(uids) // 4
    expect(messages.map((m) => m.offset)).toEqual([0, Buffer.byteLength(e1)]) // 5
    expect(messages.map((m) => m.length)).toEqual([Buffer.byteLength(e1), Buffer.byteLength(e2)]) // 6
    expect(imap['uid_validity']).toBe((await folderStatus(dc, user, folder)).uidValidity) // 7
    // Only the configured folder was backed up.
    expect(report.accounts[0]!.folders.map((f) => f.folder)).toEqual([folder])
  })

  it('item 19: a folder under a namespace prefix is stored under its full name', async () => {
    const other = await startDovecot({separator: '.', prefix: 'other_public.'})
    try {
      const user = other.users[1]!
      const folder = 'other_public.other-stuff'
      await createFolder(other, user, folder)
      await appendMessages(other, user, folder, [{raw: msg('Test 1', 'body 1\r\nHi')}])
      const dir = await testTempDir()
      const root = join(dir, 'backup')
      const config = await makeConfig(dir, [accountFile(other, user, root)])
      const report = await backup(config)
      expect(report.exitCode).toBe(0)
      expect(await readFile(join(root, 'other_public.other-stuff.mbox'), 'utf8')).toBe(entry('Test 1', 'body 1\nHi'))
      expect((await listUids(other, user, folder)).length).toBe(1)
    } finally {
      await other.stop()
    }
  })
})
