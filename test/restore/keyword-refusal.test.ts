/**
 * A destination that refuses APPENDs, end to end through restore, on a scripted server (Dovecot
 * takes every keyword, and has no way to be told to refuse one message for its size):
 *
 * - a server that refuses any APPEND carrying keywords (some Exchange and Gmail setups: they list
 *   `\*` in PERMANENTFLAGS and still say NO): each message is uploaded anyway, without its
 *   keywords, which are reported as dropped; once the server took a message without them, later
 *   messages are sent without them straight away;
 * - a NO for another reason (`[OVERQUOTA]`, or a vague NO that comes back without the keywords
 *   too): the message is reported as not uploaded, and later messages still get their keywords.
 */
import {afterEach, describe, expect, it} from 'vitest'
import {startFakeServer, type FakeCommand, type FakeConnection, type FakeServer} from '../imap/fake-server.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountFile, featureMessage, makeConfig, restore, writeImapBackupFolder} from '../transfer/helpers.js'

const USER = {user: 'kw@example.test', password: 'kw-Pw-9c1d'}
const CAPABILITIES = 'IMAP4rev1 SASL-IR ID ENABLE UIDPLUS LITERAL+ NAMESPACE AUTH=PLAIN'
const UID_VALIDITY = 777

interface Stored {
  uid: number
  flags: string[]
  raw: string
}

interface Append {
  flags: string[]
  raw: string
  answer: string
}

/**
 * Decides the answer to an APPEND: undefined to store the message, or the text after the tag
 * (`NO [OVERQUOTA] …`).
 */
type AppendRule = (flags: readonly string[], raw: string) => string | undefined

/** A one-folder destination mailbox: enough of IMAP for restore (STATUS, CREATE, SELECT, UID SEARCH, APPEND). */
async function startUploadServer(rule: AppendRule): Promise<{server: FakeServer; stored: Stored[]; appends: Append[]}> {
  const stored: Stored[] = []
  const appends: Append[] = []
  let exists = false
  let uidNext = 1
  const onCommand = (command: FakeCommand, connection: FakeConnection): boolean => {
    const send = (line: string): void => connection.send(`${line}\r\n`)
    switch (command.name) {
      case 'STATUS':
        if (!exists) {
          send(`${command.tag} NO [NONEXISTENT] Mailbox doesn't exist`)
          return true
        }
        send(`* STATUS "Work" (MESSAGES ${stored.length} UIDNEXT ${uidNext} UIDVALIDITY ${UID_VALIDITY})`)
        connection.ok(command)
        return true
      case 'CREATE':
        exists = true
        connection.ok(command)
        return true
      case 'SELECT':
        send('* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)')
        send('* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.')
        send(`* ${stored.length} EXISTS`)
        send(`* OK [UIDVALIDITY ${UID_VALIDITY}] UIDs valid`)
        send(`* OK [UIDNEXT ${uidNext}] Predicted next UID`)
        connection.ok(command, '[READ-WRITE] Select completed.')
        return true
      case 'UID SEARCH':
        send(`* SEARCH${stored.map((m) => ` ${m.uid}`).join('')}`)
        connection.ok(command)
        return true
      case 'APPEND': {
        // `"Work" (\Seen $Forwarded) "01-Apr-2021 …" <literal>`: the literal is inlined.
        const flags = /^\S+ \(([^)]*)\)/.exec(command.args)?.[1]?.split(' ').filter((f) => f !== '') ?? []
        const raw = command.args.slice(command.args.search(/(From|Subject|Date|Message-ID):/i))
        const refusal = rule(flags, raw)
        if (refusal !== undefined) {
          appends.push({flags, raw, answer: refusal})
          send(`${command.tag} ${refusal}`)
          return true
        }
        const uid = uidNext++
        stored.push({uid, flags, raw})
        appends.push({flags, raw, answer: 'OK'})
        connection.ok(command, `[APPENDUID ${UID_VALIDITY} ${uid}] Append completed.`)
        return true
      }
      default:
        return false
    }
  }
  const server = await startFakeServer({capabilities: CAPABILITIES, password: USER.password, onCommand})
  return {server, stored, appends}
}

let server: FakeServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const MESSAGES = [
  {uid: 1, text: featureMessage('one', 'first'), flags: ['Seen', '$Forwarded']},
  {uid: 2, text: featureMessage('two', 'second'), flags: ['Flagged']},
  {uid: 3, text: featureMessage('three', 'third'), flags: ['Seen', 'Work', '$Forwarded']},
  {uid: 4, text: featureMessage('four', 'fourth'), flags: ['$Forwarded']},
]

async function restoreTo(rule: AppendRule): Promise<{report: Awaited<ReturnType<typeof restore>>; stored: Stored[]; appends: Append[]}> {
  const started = await startUploadServer(rule)
  server = started.server
  const dir = await testTempDir()
  const root = `${dir}/backup`
  await writeImapBackupFolder(root, 'Work', 42, MESSAGES)
  const config = await makeConfig(dir, [accountFile({host: started.server.host, port: started.server.port}, USER, root)])
  const report = await restore(config, {account: USER.user})
  return {report, stored: started.stored, appends: started.appends}
}

const subjectOf = (raw: string): string => /Subject: (\S+)/.exec(raw)?.[1] ?? '?'

describe('a destination that refuses keywords', () => {
  it('gets every message, without keywords; the dropped keywords are reported; later messages are not tried with them', async () => {
    const {report, stored, appends} = await restoreTo((flags) => (flags.some((f) => !f.startsWith('\\')) ? 'NO APPEND failed' : undefined))
    expect(report.exitCode, JSON.stringify(report, null, 1)).toBe(0)
    const [work] = report.folders
    expect(work).toMatchObject({source: 'Work', destination: 'Work', outcome: 'ok', uploaded: 4, skipped: []})
    expect(stored.map((m) => [subjectOf(m.raw), m.flags])).toEqual([
      ['one', ['\\Seen']],
      ['two', ['\\Flagged']],
      ['three', ['\\Seen']],
      ['four', []],
    ])
    expect(work!.droppedFlags).toEqual([
      {uid: 1, flags: ['$Forwarded'], reason: expect.stringMatching(/the server refused it .*APPEND failed/)},
      {uid: 3, flags: ['$Forwarded', 'Work'], reason: expect.stringMatching(/refused/)},
      {uid: 4, flags: ['$Forwarded'], reason: expect.stringMatching(/refused/)},
    ])
    // One refusal taught it: message 1 twice, then $Forwarded is never sent again. "Work" had not
    // been refused yet, so message 3 tried it once more.
    expect(appends.map((a) => [subjectOf(a.raw), a.flags, a.answer])).toEqual([
      ['one', ['\\Seen', '$Forwarded'], 'NO APPEND failed'],
      ['one', ['\\Seen'], 'OK'],
      ['two', ['\\Flagged'], 'OK'],
      ['three', ['\\Seen', 'Work'], 'NO APPEND failed'],
      ['three', ['\\Seen'], 'OK'],
      ['four', [], 'OK'],
    ])
  })
})

describe('a NO for another reason', () => {
  it('is not retried without keywords (over quota), or does not mark them refused (refused without them too); later messages keep their keywords', async () => {
    const {report, stored, appends} = await restoreTo((_flags, raw) => {
      if (subjectOf(raw) === 'one') return 'NO [OVERQUOTA] Quota exceeded (mailbox for user is full)'
      if (subjectOf(raw) === 'three') return 'NO Internal error occurred. Refer to server log for more information.'
      return undefined
    })
    expect(report.exitCode).toBe(4)
    const [work] = report.folders
    expect(work).toMatchObject({outcome: 'incomplete', uploaded: 2, droppedFlags: []})
    expect(work!.skipped).toEqual([
      {uid: 1, reason: expect.stringMatching(/OVERQUOTA/)},
      {uid: 3, reason: expect.stringMatching(/Internal error/)},
    ])
    expect(appends.map((a) => [subjectOf(a.raw), a.flags])).toEqual([
      ['one', ['\\Seen', '$Forwarded']], // over quota: sent once, not again without the keyword
      ['two', ['\\Flagged']],
      ['three', ['\\Seen', 'Work', '$Forwarded']], // a vague NO: tried without the keywords …
      ['three', ['\\Seen']], // … refused again: the keywords were not the reason
      ['four', ['$Forwarded']], // so the next message still gets $Forwarded
    ])
    expect(stored.map((m) => [subjectOf(m.raw), m.flags])).toEqual([
      ['two', ['\\Flagged']],
      ['four', ['$Forwarded']],
    ])
  })
})
