import {describe, expect, it} from 'vitest'
import type {AccountReport, BackupReport, FolderReport} from '../../engine/backup/types.js'
import {ExitCode} from '../../shared/exit-codes.js'
import {renderBackupSummary} from './backup-summary.js'

function folder(name: string, over: Partial<FolderReport> = {}): FolderReport {
  return {folder: name, outcome: 'ok', new: 0, bytes: 0, flagUpdates: 0, deleted: 0, seconds: 0.1, failedMessages: [], ...over}
}

function account(name: string, folders: FolderReport[], over: Partial<AccountReport> = {}): AccountReport {
  return {account: name, outcome: 'ok', folders, unselected: [], seconds: 1, ...over}
}

function report(accounts: AccountReport[], over: Partial<BackupReport> = {}): BackupReport {
  return {accounts, exitCode: ExitCode.OK, seconds: 2, ...over}
}

describe('renderBackupSummary', () => {
  it('names the server folders not selected for backup, new ones marked; --quiet keeps only the new ones', () => {
    const unselected = [
      {folder: 'Projects', new: true},
      {folder: 'Spam', new: false},
      {folder: 'Trash', new: false},
    ]
    const r = report([account('alice@example.com', [folder('INBOX', {outcome: 'unchanged'})], {unselected}), account('bob@example.com', [folder('INBOX', {outcome: 'unchanged'})], {unselected: [{folder: 'Spam', new: false}]})])
    expect(renderBackupSummary(r)).toBe(
      [
        'alice@example.com: ok, 1 folder, none changed',
        '  not backed up (not selected): Projects (new), Spam, Trash',
        'bob@example.com: ok, 1 folder, none changed',
        '  not backed up (not selected): Spam',
        'total: 0 new messages in 2.0 s',
        '',
      ].join('\n'),
    )
    expect(renderBackupSummary(r, {quiet: true})).toBe(['alice@example.com: ok, 1 folder, none changed', '  not backed up (not selected): Projects (new)', ''].join('\n'))
    const many = Array.from({length: 13}, (_, i) => ({folder: `L${i}`, new: false}))
    expect(renderBackupSummary(report([account('a@x', [], {unselected: many})]))).toContain('not backed up (not selected): L0, L1, L2, L3, L4, L5, L6, L7, L8, L9 … and 3 more (--json lists them all)')
  })

  it('lists per account only the folders that changed, then a total line', () => {
    const text = renderBackupSummary(
      report(
        [
          account('alice@example.com', [
            folder('INBOX', {new: 20, bytes: 1_258_291, seconds: 0.4}),
            folder('Sent', {flagUpdates: 3}),
            folder('Drafts', {outcome: 'unchanged', seconds: 0}),
            folder('Archive/2019', {outcome: 'ok'}),
            folder('Old', {outcome: 'removed', seconds: 0}),
            folder('Lists', {new: 1, bytes: 900, deleted: 2, renamedTo: 'Lists-1606316666', seconds: 12.4}),
            folder('Gone', {note: 'the folder was deleted on the server during the run', seconds: 0}),
          ]),
        ],
        {seconds: 2},
      ),
    )
    expect(text).toBe(
      [
        'alice@example.com: ok, 4 of 7 folders changed',
        '  INBOX  20 new (1.20 MiB), 0.4 s',
        '  Sent   3 flag updates, 0.1 s',
        '  Old    removed: no longer backed up (mirror mode)',
        '  Lists  UIDVALIDITY changed, old backup moved to Lists-1606316666, 1 new (900 B), 2 deleted, 12 s',
        '  Gone   the folder was deleted on the server during the run, 0.0 s',
        'total: 21 new messages (1.20 MiB) in 2.0 s, 10.5 msg/s, 615 KiB/s',
        '',
      ].join('\n'),
    )
  })

  it('says so when nothing changed (the second run)', () => {
    const text = renderBackupSummary(report([account('alice@example.com', [folder('INBOX', {outcome: 'unchanged'}), folder('Sent')])], {seconds: 0.3}))
    expect(text).toBe('alice@example.com: ok, 2 folders, none changed\ntotal: 0 new messages in 0.3 s\n')
  })

  it('shows failures with their hint and the failed UIDs, and the meaning of the exit code', () => {
    const failedMessages = Array.from({length: 7}, (_, i) => ({uid: 100 + i, reason: 'server returned\r\nno body'}))
    const text = renderBackupSummary(
      report(
        [
          account(
            'alice@example.com',
            [
              folder('INBOX', {new: 5, bytes: 5000}),
              folder('Trash', {
                outcome: 'failed',
                new: 2,
                bytes: 2048,
                error: {name: 'TransientImapError', message: 'connection lost', hint: 'rerun; it resumes from the last savepoint', exitCode: ExitCode.CONNECTION},
              }),
              folder('Lists', {new: 3, bytes: 300, failedMessages}),
            ],
            {outcome: 'incomplete'},
          ),
          account('bob@example.com', [], {
            outcome: 'failed',
            error: {name: 'ConnectionError', message: "login failed for 'bob@example.com'", hint: 'check the password', exitCode: ExitCode.CONNECTION},
          }),
          account('carol@example.com', [], {outcome: 'skipped', error: {name: 'AccountSkipped', message: "not backed up: the account's status is 'archived'", exitCode: ExitCode.OK}}),
          account('dave@example.com', [], {outcome: 'skipped'}),
        ],
        {exitCode: ExitCode.INCOMPLETE, seconds: 10},
      ),
    )
    expect(text.split('\n')).toEqual([
      'alice@example.com: incomplete, 1 of 3 folders changed, 2 failed',
      '  INBOX  5 new (4.88 KiB), 0.1 s',
      '  Trash  failed: connection lost; before that: 2 new (2.00 KiB)',
      '         hint: rerun; it resumes from the last savepoint',
      '  Lists  3 new (300 B), 7 messages not saved, 0.1 s',
      '         UID 100 not saved: server returned no body',
      '         UID 101 not saved: server returned no body',
      '         UID 102 not saved: server returned no body',
      '         UID 103 not saved: server returned no body',
      '         UID 104 not saved: server returned no body',
      '         … and 2 more (--json lists them all)',
      "bob@example.com: failed: login failed for 'bob@example.com'",
      '  hint: check the password',
      "carol@example.com: not backed up: the account's status is 'archived'",
      'dave@example.com: skipped',
      'total: 10 new messages (7.18 KiB) in 10 s, 1.0 msg/s, 735 B/s',
      'exit 4 (INCOMPLETE): The run finished, but some folders or messages were not done (each is listed in the report and the log), or it reached its maximum duration (--max-duration) and stopped at a savepoint. Everything else was saved. Rerun; it resumes from the last savepoint. If one folder keeps failing, see its error; mailkeep local check lists the folders the last backup could not store.',
      '',
    ])
  })

  it('with quiet prints only what went wrong, and nothing for a good run', () => {
    const good = report([account('alice@example.com', [folder('INBOX', {new: 5, bytes: 5000})])])
    expect(renderBackupSummary(good, {quiet: true})).toBe('')

    const bad = report(
      [
        account('alice@example.com', [folder('INBOX', {new: 5, bytes: 5000})]),
        account('bob@example.com', [folder('INBOX', {new: 1}), folder('Spam', {outcome: 'failed', error: {name: 'RemoteError', message: 'NO [SERVERBUG]', exitCode: 1}})], {
          outcome: 'incomplete',
        }),
      ],
      {exitCode: ExitCode.INCOMPLETE},
    )
    expect(renderBackupSummary(bad, {quiet: true}).split('\n')).toEqual([
      'bob@example.com: incomplete, 1 of 2 folders changed, 1 failed',
      '  Spam  failed: NO [SERVERBUG]',
      expect.stringMatching(/^exit 4 \(INCOMPLETE\): /),
      '',
    ])
  })

  it('ends an interrupted run with the meaning of 130', () => {
    const text = renderBackupSummary(report([account('alice@example.com', [folder('INBOX', {new: 1000, bytes: 1e6})], {outcome: 'incomplete'})], {exitCode: ExitCode.SIGINT}))
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      'exit 130 (SIGINT): Interrupted with Ctrl-C (SIGINT). The current folder was rolled back to its last savepoint; everything committed before is kept. Rerun to continue.',
    )
  })

  it('never lets server-supplied text move the cursor', () => {
    const text = renderBackupSummary(report([account('a@x', [folder('bad\x1b[2Jname', {new: 1, error: {name: 'RemoteError', message: 'x\x07y', exitCode: 1}, outcome: 'failed'})])]))
    expect([...text].filter((c) => c !== '\n' && c.charCodeAt(0) < 0x20)).toEqual([])
    expect(text).toContain('bad?[2Jname')
  })

  it('handles a run with no accounts', () => {
    expect(renderBackupSummary(report([], {seconds: 0}))).toBe('no accounts were backed up\ntotal: 0 new messages in 0.0 s\n')
  })
})
