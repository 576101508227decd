// Mirror mode deletes only on a comparison it can trust, and every server folder has a local
// folder of its own. Against a scripted server (test/reliability/lib/model-server.ts), because no
// real server of the harness does these things (Dovecot refuses to create or open `&AGE-`, and
// lists an on-disk folder of that name as `&-AGE-`; none answers UID SEARCH ALL against its own
// EXISTS), through the real CLI.
//
// - issue 11 item 9: an empty `UID SEARCH ALL` answered OK while the session was told `* 7 EXISTS`
//   made mirror mode delete every local message;
// - issue 11 item 6: `a` and `&AGE-` (a non-canonical modified UTF-7 spelling of `a`), or a raw
//   UTF-8 name and its modified UTF-7 spelling, decode alike: one of them was never backed up
//   (exit 0), and both went into one local folder.
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {defaultConfigPath, makeHome, mailkeep, writeConfig} from '../cli/helpers.js'
import {MODEL_PASSWORD, folder, modelMessage, quoted, type ModelFolder, type ModelMessage, type ModelServer, startModelServer} from '../reliability/lib/model-server.js'
import {readLocalFolder} from './helpers.js'

interface Report {
  exitCode: number
  accounts: Array<{folders: Array<{folder: string; outcome: string; new: number; deleted: number; error?: {message: string}}>}>
}

let model: ModelServer | undefined
afterEach(async () => {
  await model?.close()
  model = undefined
})

const USER = 'me@example.test'
const msgs = (tag: string, n: number): ModelMessage[] => Array.from({length: n}, (_, i) => modelMessage(i + 1, tag))

async function account(folders: ModelFolder[], extra: Record<string, unknown> = {}): Promise<{home: string; root: string}> {
  model = await startModelServer(folders)
  const home = await makeHome()
  const root = join(home, 'backup')
  await writeConfig(defaultConfigPath(home), {
    version: '2.2',
    accounts: [{username: USER, password: MODEL_PASSWORD, local_path: root, server: model.host, connection_options: {port: model.port, ssl: false}, mirror_mode: true, ...extra}],
  })
  return {home, root}
}

async function run(home: string): Promise<Report> {
  const r = await mailkeep(home, ['backup', '--json'])
  expect(r.stdout, r.stderr).not.toBe('')
  const report = JSON.parse(r.stdout) as Report
  expect(r.code).toBe(report.exitCode)
  return report
}

function folderOf(report: Report, name: string): Report['accounts'][number]['folders'][number] {
  const found = report.accounts[0]!.folders.find((f) => f.folder === name)
  if (found === undefined) throw new Error(`no report for '${name}': ${JSON.stringify(report)}`)
  return found
}

/** The local folder holds exactly these messages, byte for byte. */
async function expectHolds(root: string, name: string, messages: readonly ModelMessage[]): Promise<void> {
  const local = await readLocalFolder(root, name)
  expect(local.exists, `local folder '${name}'`).toBe(true)
  expect(local.messages.map((m) => m.uid)).toEqual(messages.map((m) => m.uid))
  for (const [i, m] of messages.entries()) expect(local.messages[i]!.bytes.equals(m.raw), `UID ${m.uid} of '${name}'`).toBe(true)
}

describe('item 9: a UID SEARCH ALL that contradicts the session', () => {
  it('fails the folder (exit 4) and deletes nothing; the next honest answer deletes only what is gone', async () => {
    const inbox = folder('INBOX', 11, msgs('inbox', 8))
    const {home, root} = await account([inbox])
    expect((await run(home)).exitCode).toBe(0)
    await expectHolds(root, 'INBOX', inbox.messages)

    // One message expunged (EXAMINE now says `* 7 EXISTS`), and the server answers the full
    // comparison with no UID at all.
    inbox.messages.pop()
    let lying = true
    model!.hooks.before = (command, conn) => {
      if (!lying || command.name !== 'UID SEARCH' || !/^ALL$/i.test(command.args.trim())) return false
      conn.send('* SEARCH\r\n')
      conn.ok(command)
      return true
    }
    const report = await run(home)
    expect(report.exitCode).toBe(4)
    const f = folderOf(report, 'INBOX')
    expect(f).toMatchObject({outcome: 'failed', deleted: 0})
    expect(f.error?.message).toMatch(/UID SEARCH ALL in 'INBOX' with 0 UID\(s\) while it reported 7 message\(s\).*contradicts itself/)
    await expectHolds(root, 'INBOX', [...inbox.messages, modelMessage(8, 'inbox')])

    lying = false
    const honest = await run(home)
    expect(honest.exitCode).toBe(0)
    expect(folderOf(honest, 'INBOX')).toMatchObject({outcome: 'ok', deleted: 1})
    await expectHolds(root, 'INBOX', inbox.messages)
  })
})

describe('item 6: two server folders whose names decode alike', () => {
  it('`a` and `&AGE-`: each is backed up into its own local folder, and mirror mode keeps both, also when `a` goes', async () => {
    const plain = folder('a', 11, msgs('plain', 3))
    const odd: ModelFolder = {wire: quoted('&AGE-'), name: '&AGE-', uidValidity: 22, messages: msgs('odd', 2)}
    const {home, root} = await account([folder('INBOX', 5, msgs('inbox', 1)), plain, odd])
    const first = await run(home)
    expect(first.exitCode).toBe(0)
    expect(first.accounts[0]!.folders.map((f) => [f.folder, f.outcome, f.new])).toEqual([
      ['INBOX', 'ok', 1],
      ['a', 'ok', 3],
      ['a [&AGE-]', 'ok', 2],
    ])
    await expectHolds(root, 'a', plain.messages)
    await expectHolds(root, 'a [&AGE-]', odd.messages)

    const again = await run(home)
    expect(again.exitCode).toBe(0)
    expect(again.accounts[0]!.folders.map((f) => [f.folder, f.outcome, f.deleted])).toEqual([
      ['INBOX', 'ok', 0],
      ['a', 'ok', 0],
      ['a [&AGE-]', 'ok', 0],
    ])
    await expectHolds(root, 'a', plain.messages)
    await expectHolds(root, 'a [&AGE-]', odd.messages)

    // `a` deleted on the server: its backup goes (mirror mode), the other one keeps its name
    // and its backup.
    model!.folders.splice(model!.folders.indexOf(plain), 1)
    const after = await run(home)
    expect(after.exitCode).toBe(0)
    expect(folderOf(after, 'a').outcome).toBe('removed')
    expect(folderOf(after, 'a [&AGE-]')).toMatchObject({outcome: 'ok', new: 0, deleted: 0})
    await expectHolds(root, 'a [&AGE-]', odd.messages)
  })

  it('a raw UTF-8 name beside its modified UTF-7 spelling: both are backed up, apart', async () => {
    // The raw name goes on the wire as UTF-8 in a literal; the fake server reads arguments as
    // Latin-1, so its model name is the Latin-1 view of those bytes.
    const raw: ModelFolder = {wire: `{2}\r\n\u00e4`, name: Buffer.from('\u00e4', 'utf8').toString('latin1'), uidValidity: 31, messages: msgs('raw', 2)}
    const utf7: ModelFolder = {wire: quoted('&AOQ-'), name: '&AOQ-', uidValidity: 32, messages: msgs('utf7', 3)}
    const {home, root} = await account([folder('INBOX', 5, []), raw, utf7])
    const report = await run(home)
    expect(report.exitCode).toBe(0)
    expect(report.accounts[0]!.folders.map((f) => [f.folder, f.outcome, f.new])).toEqual([
      ['INBOX', 'ok', 0],
      ['\u00e4 [\\xc3\\xa4]', 'ok', 2],
      ['\u00e4', 'ok', 3],
    ])
    await expectHolds(root, '\u00e4 [\\xc3\\xa4]', raw.messages)
    await expectHolds(root, '\u00e4', utf7.messages)
    expect((await run(home)).accounts[0]!.folders.every((f) => f.deleted === 0 && f.outcome === 'ok')).toBe(true)
  })
})
