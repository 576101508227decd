/**
 * Helpers of the backup → restore → backup cycle tests (own-server-cycle.test.ts,
 * kept-aside.test.ts, test/transfer/kept-aside.test.ts): the real CLI against any test IMAP
 * server (`ImapServer`: Dovecot, Cyrus, Courier, directly or through a proxy), and what a folder
 * holds, by content, on the server and in the backup.
 */
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, expect} from 'vitest'
import type {TestUser} from '../support/dovecot.js'
import {serverKinds, startServer, type TestServer} from '../support/servers.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {appendMessages, createFolder, deleteFolder, fetchMessages, folderName, folderStatus, seedFolder, seedMessage, type ImapServer, type SeedMessage} from '../support/mail-seed.js'
import {defaultConfigPath, mailkeep, makeHome, show, writeConfig} from '../cli/helpers.js'
import {accountEntry} from '../support/account.js'
import {backupItems, sha256} from '../transfer/helpers.js'
import {encodeFolderPath} from '../../src/store/folder-path.js'

/** A test IMAP server these suites run against, and how to start one. */
export interface CycleServer {
  name: string
  start(): Promise<TestServer>
}

/**
 * The servers every cycle test runs against: Dovecot, Cyrus and Courier, or those named in
 * `MAILKEEP_TEST_SERVERS` (docs/testing.md), each in its first namespace shape.
 */
export const CYCLE_SERVERS: CycleServer[] = serverKinds().map((kind) => ({name: kind, start: () => startServer(kind)}))

export interface ServerWorld {
  server: TestServer
  /** A loopback proxy in front of it (counts APPENDs, kills at one). */
  proxy: TcpProxy
  /** The server as the CLI reaches it: through the proxy. */
  viaProxy: ImapServer
}

/** Starts the server and its proxy in beforeAll, stops both in afterAll; read the fields in tests. */
export function useServer(server: CycleServer): ServerWorld {
  const world = {} as ServerWorld
  beforeAll(async () => {
    world.server = await server.start()
    world.proxy = await startProxy({targetPort: world.server.port})
    world.viaProxy = {...world.server, port: world.proxy.port}
  })
  afterAll(async () => {
    await world.proxy?.close()
    await world.server?.stop()
  })
  return world
}

export interface CycleAccount {
  home: string
  /** The first account's backup. */
  root: string
  user: TestUser
}

/**
 * A fresh HOME whose config holds `users` (indexes into server.users) of `server`, each backed up
 * under HOME/<user>; the first is the account under test.
 */
export async function cycleHome(server: ImapServer, users: readonly number[], extra: Record<string, unknown> = {}): Promise<CycleAccount> {
  const home = await makeHome()
  const accounts = users.map((i) => accountEntry(server, server.users[i]!, join(home, `u${i}`), extra))
  await writeConfig(defaultConfigPath(home), {version: '2.2', accounts})
  return {home, root: join(home, `u${users[0]}`), user: server.users[users[0]!]!}
}

export interface SeededFolder {
  /** The full server name (prefix and separator of this server). */
  folder: string
  messages: SeedMessage[]
  /** SHA-256 of each message. */
  contents: Set<string>
}

/**
 * `count` distinct messages (seedMessage(seed), seedMessage(seed + 1), …) in a new folder `name`
 * of the account's user, then a first backup of the account.
 */
export async function seededFolder(server: ImapServer, account: CycleAccount, name: string, seed: number, count = 5): Promise<SeededFolder> {
  const folder = folderName(server, name)
  const messages = Array.from({length: count}, (_, i) => seedMessage(seed + i))
  await seedFolder(server, account.user, folder, count, (i) => messages[i]!)
  await cli(account.home, ['backup', '-a', account.user.user])
  return {folder, messages, contents: new Set(messages.map((m) => sha256(m.raw)))}
}

/** Runs `mailkeep <args> --json` and expects exit 0; returns the parsed report. */
export async function cli<T = Record<string, unknown>>(home: string, args: readonly string[]): Promise<T> {
  const result = await mailkeep(home, [...args, '--json'])
  expect(result.code, show(result)).toBe(0)
  return JSON.parse(result.stdout) as T
}

/** Content (SHA-256 of the bytes) → number of messages with it. */
export function countBySha(items: ReadonlyArray<{sha: string}>): Map<string, number> {
  const out = new Map<string, number>()
  for (const i of items) out.set(i.sha, (out.get(i.sha) ?? 0) + 1)
  return out
}

/** What a server folder holds, by content (`BODY.PEEK[]`, so it changes nothing). */
export async function serverContent(server: ImapServer, user: TestUser, folder: string): Promise<Map<string, number>> {
  return countBySha((await fetchMessages(server, user, folder)).map((m) => ({sha: sha256(m.raw)})))
}

/** What a backed-up folder holds, by content. */
export async function backupContent(root: string, folder: string): Promise<Map<string, number>> {
  return countBySha(await backupItems(root, folder))
}

/** Every content of `folder` on the server exactly once, and exactly the contents `expected`. */
export async function expectEachOnce(server: ImapServer, user: TestUser, folder: string, expected: ReadonlySet<string>): Promise<void> {
  const held = await serverContent(server, user, folder)
  const doubled = [...held].filter(([, n]) => n > 1).map(([sha, n]) => `${sha.slice(0, 12)} ×${n}`)
  expect(doubled, `messages held more than once in '${folder}'`).toEqual([])
  expect(new Set(held.keys()), `contents of '${folder}'`).toEqual(expected)
}

/** The state of a server folder that a run must not change: UIDVALIDITY, UIDNEXT, message count. */
export async function serverState(server: ImapServer, user: TestUser, folder: string): Promise<{uidValidity: number; uidNext: number; messages: number}> {
  const {uidValidity, uidNext, messages} = await folderStatus(server, user, folder)
  return {uidValidity, uidNext, messages}
}

/**
 * Rebuilds the folder as a server migration would: deleted, created again (a new UIDVALIDITY),
 * and every message but those at `lose` put back with its flags and INTERNALDATE, then `add`.
 */
export async function rebuildFolder(server: ImapServer, user: TestUser, folder: string, lose: readonly number[], add: readonly SeedMessage[] = []): Promise<{before: number; after: number}> {
  const before = (await folderStatus(server, user, folder)).uidValidity
  const messages = await fetchMessages(server, user, folder)
  await deleteFolder(server, user, folder)
  await createFolder(server, user, folder)
  const kept = messages.filter((_, i) => !lose.includes(i)).map((m) => ({raw: m.raw, flags: m.flags, internalDate: m.internalDate}))
  if (kept.length + add.length > 0) await appendMessages(server, user, folder, [...kept, ...add])
  const after = (await folderStatus(server, user, folder)).uidValidity
  expect(after, 'the rebuilt folder has a new UIDVALIDITY').not.toBe(before)
  return {before, after}
}

/**
 * The backup's data of a folder and of its kept-aside copies, file name → bytes: every `.mbox`
 * and `.imap` whose name starts with the folder's. (The upload maps next to them are the uploads'
 * bookkeeping: a restore records there, once, that a message the backup has just downloaded is
 * on the server under the same UID. Other folders are left out: an empty INBOX on Courier gets a
 * new UIDVALIDITY in every session, which the backup records.)
 */
export async function backupSnapshot(root: string, folder: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const prefix = encodeFolderPath(folder)
  for (const entry of await readdir(root, {recursive: true, withFileTypes: true})) {
    if (!entry.isFile() || !/\.(mbox|imap)$/.test(entry.name)) continue
    const path = join(entry.parentPath, entry.name)
    const name = path.slice(root.length + 1)
    if (name.startsWith(prefix)) out.set(name, await readFile(path))
  }
  return out
}
