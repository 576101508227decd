/**
 * The backup every export test starts from: the whole corpus in INBOX (flags and INTERNALDATEs
 * varied, some without INTERNALDATE so that the Date header is used), nested folders, folders
 * whose names try to leave the target directory or collide with the formats' own files, and a
 * folder written by imap-backup.
 */
import {join} from 'node:path'
import {loadCorpus} from '../fixtures/corpus.js'
import {seedBackup, writeLegacyFolder, type SeedFolder, type SeedMessage} from './helpers.js'

const FLAG_SETS: string[][] = [['\\Seen'], ['\\Seen', '\\Answered'], [], ['\\Flagged', '\\Seen'], ['\\Draft'], ['\\Deleted', '\\Seen', '$Forwarded'], ['$Label1']]

/** 2024-05-01T12:34:56Z plus one hour per UID. */
export const BASE_TIME = Date.UTC(2024, 4, 1, 12, 34, 56)

export function inboxMessages(): SeedMessage[] {
  return loadCorpus().map((m, i) => ({
    uid: i + 1,
    raw: m.raw,
    flags: FLAG_SETS[i % FLAG_SETS.length]!,
    // Every third message has no INTERNALDATE (as after a backup from a server that lacked it).
    internalDate: i % 3 === 2 ? null : BASE_TIME + (i + 1) * 3_600_000,
  }))
}

const simple = (uid: number, subject: string, body: string): SeedMessage => ({
  uid,
  raw: Buffer.from(`From: bob@example.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nDate: Wed, 1 May 2024 10:00:00 +0000\r\n\r\n${body}`),
  flags: ['\\Seen'],
  internalDate: BASE_TIME,
})

/** Folder names that must stay inside the target and not collide with format files. */
export const HOSTILE_FOLDERS = ['..', '../escape', 'a/../../b', '.hidden', 'x.msf', 'Sub/cur', 'Sub/123.eml', '%2e;odd', 'tab\there', 'C:colon;semi', '#hash~']

export function seedFolders(): SeedFolder[] {
  return [
    {name: 'INBOX', messages: inboxMessages()},
    {name: 'Work', messages: [simple(10, 'work', 'Work body\r\n')]},
    {name: 'Work/Projects', messages: [simple(1, 'project one', 'From the project:\r\nFrom here\r\n>From quoted\r\n'), simple(2, 'project two', 'two\r\n')]},
    {name: 'Archive/2023/Q4', messages: [simple(7, 'deep', 'Deep body\r\n')]},
    {name: 'Empty', messages: []},
    // The parent of two hostile children (`Sub/cur`, `Sub/123.eml`) holds mail itself.
    {name: 'Sub', messages: [simple(50, 'sub', 'Sub body\r\n')]},
    ...HOSTILE_FOLDERS.map((name, i) => ({name, messages: [simple(100 + i, `hostile ${i}`, `Body of ${JSON.stringify(name)}\r\n`)]})),
  ]
}

export const LEGACY_FOLDER = 'Legacy'

export const LEGACY_MESSAGES = [
  {uid: 5, text: 'From: old@example.test\nSubject: legacy one\n\nFrom the old days\n>From quoted\nbye\n', flags: ['Seen']},
  {uid: 6, text: 'From: old@example.test\nSubject: legacy two\nDate: Thu, 2 May 2024 08:00:00 +0200\n\nno newline at end', flags: []},
]

/** Builds the backup under `root`; returns imap-backup's stored text of the legacy messages. */
export async function buildBackup(root: string): Promise<{folders: SeedFolder[]; legacy: string[]}> {
  const folders = seedFolders()
  await seedBackup(root, folders)
  const legacy = await writeLegacyFolder(root, LEGACY_FOLDER, LEGACY_MESSAGES)
  return {folders, legacy}
}

export const backupRoot = (home: string): string => join(home, 'backup', 'alice')
