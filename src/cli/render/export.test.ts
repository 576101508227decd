import {describe, expect, it} from 'vitest'
import type {ExportFolderReport, ExportReport, ThunderbirdExportReport} from '../../engine/export/types.js'
import {ExitCode} from '../../shared/exit-codes.js'
import {renderExport, renderThunderbirdExport} from './export.js'

const folder = (over: Partial<ExportFolderReport>): ExportFolderReport => ({folder: 'INBOX', status: 'exported', path: '/x/INBOX', messages: 3, bytes: 2048, legacyMessages: 0, failedMessages: [], ...over})

describe('renderThunderbirdExport', () => {
  const report: ThunderbirdExportReport = {
    account: 'me@example.test',
    profile: {name: 'default-release', path: '/home/me/.thunderbird/a.default-release'},
    target: '/home/me/.thunderbird/a.default-release/Mail/Local Folders/imap-backup.sbd/me@example.test.sbd',
    folders: [
      folder({}),
      folder({folder: 'Work/Projects', status: 'skipped', messages: 0, bytes: 0, error: {name: 'MailkeepError', message: "'/t/Work.sbd/Projects' exists", hint: 'pass --force to replace it', exitCode: 1}}),
      folder({folder: 'Bad\u001b[2J', failedMessages: [{uid: 4, reason: 'cannot be decoded'}], legacyMessages: 1}),
    ],
    messages: 6,
    bytes: 4096,
    exitCode: ExitCode.INCOMPLETE,
  }

  it('lists each folder, what went wrong, totals and the exit meaning', () => {
    expect(renderThunderbirdExport(report)).toBe(
      [
        "me@example.test: exported to Thunderbird profile 'default-release'",
        '  into /home/me/.thunderbird/a.default-release/Mail/Local Folders/imap-backup.sbd/me@example.test.sbd',
        '  INBOX          3 messages (2.00 KiB)',
        "  Work/Projects  skipped: '/t/Work.sbd/Projects' exists",
        '                 hint: pass --force to replace it',
        '  Bad?[2J        3 messages (2.00 KiB)',
        '                 not exported: 1 message',
        '                   UID 4: cannot be decoded',
        'total: 6 messages (4.00 KiB) in 2 of 3 folders',
        'note: 1 message written by imap-backup was exported as imap-backup stored it (LF line endings, a newline added), not byte for byte',
        'exit 4 (INCOMPLETE): not everything was exported; the folders and messages above say what and why',
        '',
      ].join('\n'),
    )
  })

  it('with quiet, shows only the problems', () => {
    const text = renderThunderbirdExport(report, {quiet: true})
    expect(text).not.toContain('INBOX ')
    expect(text).toContain('Work/Projects')
    expect(renderThunderbirdExport({...report, folders: [folder({})], exitCode: ExitCode.OK}, {quiet: true})).toBe('')
  })
})

describe('renderExport', () => {
  it('names the format and target', () => {
    const report: ExportReport = {account: 'me@example.test', format: 'maildir', to: '/out', folders: [folder({})], messages: 3, bytes: 2048, exitCode: ExitCode.OK}
    expect(renderExport(report)).toBe('me@example.test: exported as Maildir to /out\n  INBOX  3 messages (2.00 KiB)\ntotal: 3 messages (2.00 KiB) in 1 of 1 folder\n')
  })
})
