/**
 * `mailkeep remote folders|capabilities|namespaces` end to end: the real CLI, text and JSON
 * output (compat §9.2 88–92). What the server answers (its folders, LIST attributes, modified
 * UTF-7 names, capabilities, namespaces, a refused login) on each server of serverVariants(),
 * with the differences stated as SERVER_FACTS; imap-backup's own setup (a Dovecot with `INBOX.`
 * and a public namespace `other_public.`, like its test server B) and a Dovecot that hides
 * extensions (a capability override) on Dovecot.
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {ensureFolder, folderName, seedFolder} from '../support/mail-seed.js'
import {serverVariants, startServer, type ServerNamespace, type TestServer} from '../support/servers.js'
import {accountEntry, allOutput, defaultConfigPath, mailkeep, makeHome, setupAccount, show, writeConfig} from '../cli/helpers.js'
import {WRONG_PASSWORD} from '../secrets/test-secrets.js'

// Each test runs the CLI several times (a Node start each, seconds on a loaded machine).
vi.setConfig({testTimeout: 240_000})

/** Every server this file started, for the last check (no password in any output). */
const started: Array<{users: readonly TestUser[]}> = []

describe.each(serverVariants())('$title', ({kind, separator}) => {
  let server: TestServer
  /** The folders alice has, besides INBOX. */
  let work: string
  let projects: string
  let drafts: string

  beforeAll(async () => {
    server = await startServer(kind, {separator})
    started.push(server)
    const [alice] = server.users as [TestUser]
    work = folderName(server, 'Work')
    projects = folderName(server, 'Work', 'Projects')
    drafts = folderName(server, 'Entwürfe') // modified UTF-7 on the wire: Entw&APw-rfe
    await ensureFolder(server, alice, work)
    await ensureFolder(server, alice, projects)
    await ensureFolder(server, alice, drafts)
    await seedFolder(server, alice, 'INBOX', 2)
  })
  afterAll(async () => {
    await server?.stop()
  })

  describe('mailkeep remote folders', () => {
    it('prints every server folder in double quotes, names decoded from modified UTF-7', async () => {
      const {home, user} = await setupAccount(server, 0)
      const result = await mailkeep(home, ['remote', 'folders', user.user])
      expect(result.code, show(result)).toBe(0)
      const lines = result.stdout.trimEnd().split('\n')
      expect(lines).toContain('"INBOX"') // compat §9.2 item 88
      expect([...lines].sort()).toEqual([drafts, 'INBOX', work, projects].map((f) => `"${f}"`).sort())
      expect(result.stderr).toBe('')
    })

    it('--json: [{"name"}] with the delimiter and LIST attributes as extra fields', async () => {
      const {home, user} = await setupAccount(server, 0)
      const result = await mailkeep(home, ['remote', 'folders', user.user, '--json'])
      expect(result.code, show(result)).toBe(0)
      // One line of compact JSON, as imap-backup prints it.
      expect(result.stdout.trimEnd().split('\n')).toHaveLength(1)
      const folders = JSON.parse(result.stdout) as Array<{name: string; delimiter: string | null; attributes: string[]}>
      expect(folders).toContainEqual(expect.objectContaining({name: 'INBOX'})) // item 89
      const listed = folders.find((f) => f.name === work)!
      expect(listed.delimiter).toBe(separator)
      expect(listed.attributes).toContain('\\HasChildren')
      expect(folders.find((f) => f.name === drafts)?.attributes).toContain('\\HasNoChildren')
      expect(Object.keys(folders[0]!)).toEqual(['name', 'delimiter', 'attributes'])
    })

    it('a wrong password: exit 111, one line naming the server, no password', async () => {
      const home = await makeHome()
      const user = server.users[1]!
      const entry = accountEntry(server, user, join(home, 'b'), {password: WRONG_PASSWORD})
      await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [entry]})
      const result = await mailkeep(home, ['remote', 'folders', user.user])
      expect(result.code, show(result)).toBe(111)
      expect(result.stderr).toMatch(/^mailkeep: error: .*/)
      expect(result.stderr).toContain(`${server.host}:${server.port}`)
      expect(result.stdout + result.stderr).not.toContain(WRONG_PASSWORD)
    })
  })

  describe('mailkeep remote capabilities', () => {
    it("prints the server's capabilities joined with ', '; --json as an array", async () => {
      const {home, user} = await setupAccount(server, 0)
      const text = await mailkeep(home, ['remote', 'capabilities', user.user])
      expect(text.code, show(text)).toBe(0)
      const listed = text.stdout.trimEnd().split(', ')
      expect(listed[0]).toBe('IMAP4REV1')
      expect(listed).toEqual(expect.arrayContaining([...server.facts.capabilities]))
      expect(text.stdout.trimEnd().split('\n')).toHaveLength(1)

      const json = await mailkeep(home, ['remote', 'capabilities', user.user, '--json'])
      expect(json.code, show(json)).toBe(0)
      expect(JSON.parse(json.stdout)).toEqual(listed)
    })
  })

  describe('mailkeep remote namespaces', () => {
    it('the first personal, other and shared namespace, or (Not defined)', async () => {
      const expected = server.facts.namespaces[separator]!
      const row = (name: string, ns: ServerNamespace | null): string =>
        ns === null ? `${name.padEnd(10)} (Not defined)` : `${name.padEnd(10)} ${JSON.stringify(ns.prefix).padEnd(20)} ${JSON.stringify(ns.delimiter)}`
      const {home, user} = await setupAccount(server, 0)
      const result = await mailkeep(home, ['remote', 'namespaces', user.user])
      expect(result.code, show(result)).toBe(0)
      expect(result.stdout).toBe(
        ['Name       Prefix               Delimiter', row('personal', expected.personal), row('other', expected.other), row('shared', expected.shared), ''].join('\n'),
      )
      if (expected.personal.prefix === '') expect(result.stdout).toMatch(/personal\s+""\s+"\/"/) // item 91's pattern
    })

    it("--json is imap-backup's shape (item 92)", async () => {
      const expected = server.facts.namespaces[separator]!
      const json = (ns: ServerNamespace | null): {prefix: string; delim: string} | null => (ns === null ? null : {prefix: ns.prefix, delim: ns.delimiter})
      const {home, user} = await setupAccount(server, 0)
      const result = await mailkeep(home, ['remote', 'namespaces', user.user, '--json'])
      expect(result.code, show(result)).toBe(0)
      expect(result.stdout).toBe(`${JSON.stringify({personal: json(expected.personal), other: json(expected.other), shared: json(expected.shared)})}\n`)
    })
  })
})

describe("imap-backup's server B and overrides (Dovecot)", () => {
  let dot: DovecotInstance

  /** A public namespace, as imap-backup's server B has (`DOVECOT_PUBLIC_NAMESPACE_PREFIX`). */
  const PUBLIC_NAMESPACE = ['namespace public {', '  type = public', '  separator = .', '  prefix = other_public.', '  location = mdbox:~/public', '  subscriptions = no', '}'].join('\n')

  beforeAll(async () => {
    dot = await startDovecot({separator: '.', extraConfig: PUBLIC_NAMESPACE})
    started.push(dot)
    const [alice] = dot.users as [TestUser]
    await ensureFolder(dot, alice, folderName(dot, 'Sent'))
    await ensureFolder(dot, alice, 'other_public.ciao')
  })
  afterAll(async () => {
    await dot?.stop()
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

  it("an account that is not in the config: exit 3 with imap-backup's message", async () => {
    const {home} = await setupAccount(dot, 0)
    const result = await mailkeep(home, ['remote', 'folders', 'nobody@example.test'])
    expect(result.code, show(result)).toBe(3)
    expect(result.stderr).toContain('nobody@example.test is not a configured account')
  })

  it("'.' + INBOX. with a public namespace: personal \"INBOX.\" \".\", shared \"other_public.\"; --format json", async () => {
    const {home, user} = await setupAccount(dot, 0)
    const result = await mailkeep(home, ['remote', 'namespaces', user.user])
    expect(result.code, show(result)).toBe(0)
    expect(result.stdout).toMatch(/^personal\s+"INBOX\."\s+"\."$/m)
    expect(result.stdout).toMatch(/^other {6}\(Not defined\)$/m)
    expect(result.stdout).toMatch(/^shared\s+"other_public\."\s+"\."$/m)
    const json = await mailkeep(home, ['remote', 'namespaces', user.user, '--format', 'json'])
    expect(json.code, show(json)).toBe(0)
    expect(json.stdout).toBe('{"personal":{"prefix":"INBOX.","delim":"."},"other":null,"shared":{"prefix":"other_public.","delim":"."}}\n')
  })

  it('remote capabilities shows what the server announces, also when it hides extensions', async () => {
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

describe('output', () => {
  it('never shows a password', () => {
    const output = allOutput()
    expect(started.length).toBeGreaterThan(0)
    for (const server of started) for (const user of server.users) expect(output.includes(user.password), `password of ${user.user} in the output`).toBe(false)
  })
})
