/**
 * `mailkeep remote folders|capabilities|namespaces` end to end: the real CLI against private
 * Dovecots of both flavours ('/' without prefix; '.' with `INBOX.` and a public namespace
 * `other_public.` like imap-backup's test server B), text and JSON output (compat §9.2 88–92).
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {ensureFolder, folderName, seedFolder} from '../support/mail-seed.js'
import {accountEntry, allOutput, defaultConfigPath, mailkeep, makeHome, setupAccount, show, writeConfig} from '../cli/helpers.js'
import {WRONG_PASSWORD} from '../secrets/test-secrets.js'

// Each test runs the CLI several times (a Node start each, seconds on a loaded machine).
vi.setConfig({testTimeout: 240_000})

let slash: DovecotInstance
let dot: DovecotInstance

/** A public namespace, as imap-backup's server B has (`DOVECOT_PUBLIC_NAMESPACE_PREFIX`). */
const PUBLIC_NAMESPACE = ['namespace public {', '  type = public', '  separator = .', '  prefix = other_public.', '  location = mdbox:~/public', '  subscriptions = no', '}'].join('\n')

beforeAll(async () => {
  ;[slash, dot] = await Promise.all([startDovecot(), startDovecot({separator: '.', extraConfig: PUBLIC_NAMESPACE})])
  const [alice] = slash.users as [TestUser]
  await ensureFolder(slash, alice, 'Work')
  await ensureFolder(slash, alice, 'Work/Projects')
  await ensureFolder(slash, alice, 'Entwürfe') // modified UTF-7 on the wire: Entw&APw-rfe
  await seedFolder(slash, alice, 'INBOX', 2)
  await ensureFolder(dot, alice, folderName(dot, 'Sent'))
  await ensureFolder(dot, alice, 'other_public.ciao')
})

afterAll(async () => {
  await Promise.all([slash?.stop(), dot?.stop()])
})

describe('mailkeep remote folders', () => {
  it('prints every server folder in double quotes, names decoded from modified UTF-7', async () => {
    const {home, user} = await setupAccount(slash, 0)
    const result = await mailkeep(home, ['remote', 'folders', user.user])
    expect(result.code, show(result)).toBe(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines).toContain('"INBOX"') // compat §9.2 item 88
    expect([...lines].sort()).toEqual(['"Entwürfe"', '"INBOX"', '"Work"', '"Work/Projects"'])
    expect(result.stderr).toBe('')
  })

  it('--json: [{"name"}] with the delimiter and LIST attributes as extra fields', async () => {
    const {home, user} = await setupAccount(slash, 0)
    const result = await mailkeep(home, ['remote', 'folders', user.user, '--json'])
    expect(result.code, show(result)).toBe(0)
    // One line of compact JSON, as imap-backup prints it.
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(1)
    const folders = JSON.parse(result.stdout) as Array<{name: string; delimiter: string | null; attributes: string[]}>
    expect(folders).toContainEqual(expect.objectContaining({name: 'INBOX'})) // item 89
    const work = folders.find((f) => f.name === 'Work')!
    expect(work.delimiter).toBe('/')
    expect(work.attributes).toContain('\\HasChildren')
    expect(folders.find((f) => f.name === 'Entwürfe')?.attributes).toContain('\\HasNoChildren')
    expect(Object.keys(folders[0]!)).toEqual(['name', 'delimiter', 'attributes'])
  })

  it("-f json (imap-backup's flag) is the same as --json, and --config names the file (item 90)", async () => {
    const {home, user} = await setupAccount(dot, 0)
    const config = join(home, 'elsewhere.json')
    await writeConfig(config, {version: '2.2', accounts: [accountEntry(dot, user, join(home, 'b'))]})
    const result = await mailkeep(home, ['remote', 'folders', user.user, '--config', config, '-f', 'json'])
    expect(result.code, show(result)).toBe(0)
    const names = (JSON.parse(result.stdout) as Array<{name: string}>).map((f) => f.name)
    expect(names).toEqual(expect.arrayContaining(['INBOX', 'INBOX.Sent', 'other_public.ciao']))
  })

  it('an account that is not in the config: exit 3 with imap-backup\'s message', async () => {
    const {home} = await setupAccount(slash, 0)
    const result = await mailkeep(home, ['remote', 'folders', 'nobody@example.test'])
    expect(result.code, show(result)).toBe(3)
    expect(result.stderr).toContain('nobody@example.test is not a configured account')
  })

  it('a wrong password: exit 111, one line naming the server, no password', async () => {
    const home = await makeHome()
    const user = slash.users[1]!
    const entry = accountEntry(slash, user, join(home, 'b'), {password: WRONG_PASSWORD})
    await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [entry]})
    const result = await mailkeep(home, ['remote', 'folders', user.user])
    expect(result.code, show(result)).toBe(111)
    expect(result.stderr).toMatch(/^mailkeep: error: .*/)
    expect(result.stdout + result.stderr).not.toContain(WRONG_PASSWORD)
  })
})

describe('mailkeep remote capabilities', () => {
  it("prints the server's capabilities joined with ', '; --json as an array", async () => {
    const {home, user} = await setupAccount(slash, 0)
    const text = await mailkeep(home, ['remote', 'capabilities', user.user])
    expect(text.code, show(text)).toBe(0)
    const listed = text.stdout.trimEnd().split(', ')
    expect(listed[0]).toBe('IMAP4REV1')
    expect(listed).toEqual(expect.arrayContaining(['NAMESPACE', 'UIDPLUS', 'CONDSTORE', 'QRESYNC', 'LIST-STATUS']))
    expect(text.stdout.trimEnd().split('\n')).toHaveLength(1)

    const json = await mailkeep(home, ['remote', 'capabilities', user.user, '--json'])
    expect(json.code, show(json)).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual(listed)
  })

  it('shows what the server announces, also when it hides extensions', async () => {
    const limited = await startDovecot({capabilities: 'IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE'})
    try {
      const {home, user} = await setupAccount(limited, 0)
      const result = await mailkeep(home, ['remote', 'capabilities', user.user])
      expect(result.code, show(result)).toBe(0)
      expect(result.stdout.trimEnd()).toBe('IMAP4REV1, LITERAL+, SASL-IR, ID, ENABLE, IDLE')
    } finally {
      await limited.stop()
    }
  })
})

describe('mailkeep remote namespaces', () => {
  it("'/' flavour: personal \"\" \"/\", the others not defined", async () => {
    const {home, user} = await setupAccount(slash, 0)
    const result = await mailkeep(home, ['remote', 'namespaces', user.user])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toBe(
      [
        'Name       Prefix               Delimiter',
        'personal   ""                   "/"',
        'other      (Not defined)',
        'shared     (Not defined)',
        '',
      ].join('\n'),
    )
    expect(result.stdout).toMatch(/personal\s+""\s+"\/"/) // item 91's pattern
  })

  it("'.' + INBOX. flavour with a public namespace: personal \"INBOX.\" \".\", shared \"other_public.\"", async () => {
    const {home, user} = await setupAccount(dot, 0)
    const result = await mailkeep(home, ['remote', 'namespaces', user.user])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toMatch(/^personal\s+"INBOX\."\s+"\."$/m)
    expect(result.stdout).toMatch(/^other {6}\(Not defined\)$/m)
    expect(result.stdout).toMatch(/^shared\s+"other_public\."\s+"\."$/m)
  })

  it('--json is exactly imap-backup\'s shape (item 92)', async () => {
    const {home, user} = await setupAccount(slash, 0)
    const result = await mailkeep(home, ['remote', 'namespaces', user.user, '--json'])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toBe('{"personal":{"prefix":"","delim":"/"},"other":null,"shared":null}\n')

    const dotHome = await setupAccount(dot, 0)
    const dotResult = await mailkeep(dotHome.home, ['remote', 'namespaces', dotHome.user.user, '--format', 'json'])
    expect(dotResult.code, show(dotResult)).toBe(0)
    expect(dotResult.stdout).toBe('{"personal":{"prefix":"INBOX.","delim":"."},"other":null,"shared":{"prefix":"other_public.","delim":"."}}\n')
  })
})

describe('output', () => {
  it('never shows a password', () => {
    const output = allOutput()
    for (const server of [slash, dot]) for (const user of server.users) expect(output.includes(user.password), `password of ${user.user} in the output`).toBe(false)
  })
})
