/**
 * A hostile server (lib/model-server.ts on loopback) against the real `mailkeep backup`:
 * malformed responses, a literal announced larger than what follows, FETCH answers for UIDs
 * nobody asked for (and a second, different copy of one that was), UIDVALIDITY changing between
 * two commands, folder names with `../`, `/` and NUL, a 2 GB literal, BYE in the middle of a
 * FETCH. Each must end with a clear error or a correct backup: exit code from the documented
 * table (never 70 or a hang), no stack trace, memory bounded, every stored message byte-identical
 * to what the server holds for that UID and UIDVALIDITY, no UID twice, and nothing written outside
 * the account directory.
 */
import {existsSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, relative, sep} from 'node:path'
import {silentLogger} from '../../../src/shared/logger.js'
import {AccountStore} from '../../../src/store/account-store.js'
import {describe as describeRun} from '../lib/cli.js'
import {account, configPath, writeConfig, type ScenarioEnv} from '../lib/env.js'
import type {RunCheck} from '../lib/ledger.js'
import {streamJunk, type FakeServer} from '../../imap/fake-server.js'
import {MODEL_PASSWORD, folder, literalFolder, modelMessage, startModelServer, type HostileHooks, type ModelFolder, type ModelMessage} from '../lib/model-server.js'
import {deriveSeed} from '../lib/rng.js'
import {localCheck} from '../lib/verify.js'

export const HOSTILE_SERVER = 'hostile server'
export const HOSTILE_SERVER_KNOWN = 'hostile server (known issues)'

/** Above what a backup of these few small messages needs (Node and mailkeep take ~100 MiB). */
const RSS_LIMIT_MB = 400

interface HostileCase {
  name: string
  folders: () => ModelFolder[]
  hooks: (folders: ModelFolder[]) => HostileHooks
  /** Exit codes that are a correct outcome (each is a documented, clear result). */
  exits: readonly number[]
  /** The backup must then hold everything (when it exits 0). */
  complete?: boolean
  /** Messages each folder must hold, by UIDVALIDITY, to compare what was stored. */
  expected?: (folders: ModelFolder[]) => Map<string, Map<number, ModelMessage[]>>
  /**
   * No rerun against the well-behaved server afterwards (default: one, which must exit 0 with
   * every message stored: whatever the hostile run did, nothing may be lost for good).
   */
  noRerun?: boolean
  /** A check of what the server received: a problem, or undefined. */
  server?: (fake: FakeServer) => string | undefined
  /** A bug this case finds that is not fixed yet: the CI suite runs it as an expected failure. */
  knownIssue?: string
}

const msgs = (tag: string, n: number, size = 300): ModelMessage[] => Array.from({length: n}, (_, i) => modelMessage(i + 1, tag, size))
const isBodyFetch = (name: string, args: string): boolean => name === 'UID FETCH' && /BODY\.PEEK\[\]/i.test(args)

export const HOSTILE_CASES: HostileCase[] = [
  {
    name: 'malformed FETCH response',
    folders: () => [folder('INBOX', 11, msgs('a', 12))],
    hooks: () => ({
      before: (c, conn, s) => {
        if (s.connection !== 1 || !isBodyFetch(c.name, c.args)) return false
        conn.send('* 1 FETCH (UID one FLAGS (((( BODY[] "unterminated\r\n')
        conn.send(`${c.tag} OK done\r\n`)
        return true
      },
    }),
    exits: [0, 1, 4],
  },
  {
    name: 'binary garbage instead of a response',
    folders: () => [folder('INBOX', 12, msgs('b', 8)), folder('Other', 13, msgs('o', 5))],
    hooks: () => ({
      before: (c, conn, s) => {
        if (s.connection !== 1 || c.name !== 'EXAMINE') return false
        conn.send(Buffer.from([0x00, 0xff, 0xfe, 0x2a, 0x20, 0x7b, 0x39, 0x39, 0x7d, 0x0d, 0x0a, 0x01, 0x02, 0x0d, 0x0a]))
        conn.send(`${c.tag} OK [READ-ONLY] done\r\n`)
        return true
      },
    }),
    exits: [0, 1, 4],
  },
  {
    name: 'unparseable LIST answers',
    folders: () => [folder('INBOX', 14, msgs('c', 3))],
    hooks: () => ({
      before: (c, conn) => {
        if (c.name !== 'LIST' || /^"" ""$/.test(c.args.trim())) return false
        conn.send('* LIST (\\HasNoChildren "/" INBOX\r\n* LIST ((( "/"\r\n')
        conn.send(`${c.tag} OK done\r\n`)
        return true
      },
    }),
    exits: [1, 4],
  },
  {
    name: 'unparseable SEARCH answer',
    folders: () => [folder('INBOX', 17, msgs('s', 9))],
    hooks: () => ({
      before: (c, conn, s) => {
        if (s.connection !== 1 || c.name !== 'UID SEARCH') return false
        conn.send('* SEARCH 1 2 3 ((( [[ "\r\n')
        conn.send(`${c.tag} OK done\r\n`)
        return true
      },
    }),
    // Exit 0 only with every message: an incomplete SEARCH must not read as "nothing new".
    exits: [0, 1, 4],
    complete: true,
  },
  {
    name: 'literal size larger than what follows',
    folders: () => [folder('INBOX', 15, msgs('d', 10))],
    hooks: (folders) => ({
      before: (c, conn, s) => {
        if (s.connection !== 1 || !isBodyFetch(c.name, c.args)) return false
        const m = folders[0]!.messages[0]!
        // 5,000 bytes promised, a few hundred sent, then the tagged OK is eaten as literal data.
        conn.send(Buffer.concat([Buffer.from(`* 1 FETCH (UID ${m.uid} FLAGS () RFC822.SIZE ${m.raw.length} BODY[] {${m.raw.length + 5000}}\r\n`), m.raw, Buffer.from(`)\r\n${c.tag} OK done\r\n`)]))
        return true
      },
    }),
    exits: [0, 4],
    complete: true,
  },
  {
    name: 'FETCH answers for UIDs not asked for',
    folders: () => [folder('INBOX', 16, msgs('e', 6))],
    hooks: () => ({
      extraFetch: (c) => {
        if (!isBodyFetch(c.name, c.args)) return []
        const evil = Buffer.from('From: evil@example.test\r\nSubject: not asked for\r\n\r\nevil\r\n')
        return [
          Buffer.concat([Buffer.from(`* 40 FETCH (UID 777 FLAGS () RFC822.SIZE ${evil.length} BODY[] {${evil.length}}\r\n`), evil, Buffer.from(')\r\n')]),
          // A second, different answer for a UID that was asked for.
          Buffer.concat([Buffer.from(`* 1 FETCH (UID 1 FLAGS () RFC822.SIZE ${evil.length} BODY[] {${evil.length}}\r\n`), evil, Buffer.from(')\r\n')]),
        ]
      },
    }),
    exits: [0, 4],
  },
  {
    name: 'UIDVALIDITY changes between two commands',
    folders: () => [folder('INBOX', 42, msgs('v42', 30))],
    hooks: () => {
      const v43 = msgs('v43', 25)
      let fetches = 0
      return {
        uidValidity: (f, s) => (s.connection >= 2 ? 43 : f.uidValidity),
        messages: (f, s) => (s.connection >= 2 ? v43 : f.messages),
        before: (c, conn, s) => {
          // The link breaks after a few batches; the next connection sees a new UIDVALIDITY.
          if (s.connection === 1 && isBodyFetch(c.name, c.args) && ++fetches === 3) {
            conn.destroy()
            return true
          }
          return false
        },
      }
    },
    exits: [0, 4],
    noRerun: true,
    expected: (folders) =>
      new Map([
        [
          'INBOX',
          new Map([
            [42, folders[0]!.messages],
            [43, msgs('v43', 25)],
          ]),
        ],
      ]),
  },
  {
    name: "folder names with '../', '/' and NUL",
    folders: () => [
      folder('INBOX', 20, msgs('f', 2)),
      folder('../../../../escape-mkrel', 21, msgs('g', 2)),
      folder('a/../../../../../escape2-mkrel', 22, msgs('h', 2)),
      folder('..', 23, msgs('i', 2)),
      folder('/abs-mkrel', 24, msgs('j', 2)),
      folder('x/./y', 25, msgs('k', 2)),
      literalFolder('nul\0name-mkrel', 26, msgs('l', 2)),
      // A name that would inject a command if it were sent as an atom instead of a literal.
      literalFolder('evil\r\nZ9 DELETE "INBOX"', 27, msgs('q', 2)),
    ],
    hooks: () => ({}),
    exits: [0, 1, 4],
    server: (fake) => (fake.commands.some((c) => c.name === 'DELETE' || c.tag === 'Z9') ? 'a folder name reached the server as a command' : undefined),
  },
  {
    name: 'a 2 GB literal announced',
    folders: () => [folder('INBOX', 30, msgs('m', 4))],
    hooks: () => ({
      before: (c, conn, s) => {
        if (!isBodyFetch(c.name, c.args) || s.connection > 2) return false
        conn.send('* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 300 BODY[] {2147483648}\r\n')
        streamJunk(conn.socket, 200 * 1024 * 1024)
        return true
      },
    }),
    exits: [0, 1, 4],
  },
  {
    name: 'a 900 MB literal for a small message',
    folders: () => [folder('INBOX', 31, msgs('n', 4))],
    hooks: () => ({
      before: (c, conn, s) => {
        if (!isBodyFetch(c.name, c.args) || s.connection > 1) return false
        conn.send('* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 300 BODY[] {943718400}\r\n')
        streamJunk(conn.socket, 943718400)
        return true
      },
    }),
    // Refused at the announcement (src/imap/limits.ts); the batch is then downloaded in chunks.
    exits: [0],
    complete: true,
  },
  {
    name: 'BYE in the middle of a FETCH',
    folders: () => [folder('INBOX', 32, msgs('p', 20))],
    hooks: (folders) => ({
      before: (c, conn, s) => {
        if (s.connection !== 1 || !isBodyFetch(c.name, c.args)) return false
        const m = folders[0]!.messages[0]!
        conn.send(Buffer.concat([Buffer.from(`* 1 FETCH (UID ${m.uid} FLAGS () RFC822.SIZE ${m.raw.length} BODY[] {${m.raw.length}}\r\n`), m.raw, Buffer.from(')\r\n* BYE shutting down\r\n')]))
        conn.end()
        return true
      },
    }),
    exits: [0],
    complete: true,
  },
]

/**
 * Runs every case (`knownIssues: 'skip'` leaves out those that find a bug not fixed yet; `'only'`
 * runs just those, for the expected-failure test).
 */
export async function hostileServerScenario(env: ScenarioEnv, options: {knownIssues?: 'skip' | 'include' | 'only'; only?: string} = {}): Promise<void> {
  if (!env.secrets.some((s) => s.value === MODEL_PASSWORD)) env.secrets.push({label: 'password of the model server', value: MODEL_PASSWORD})
  const mode = options.knownIssues ?? 'skip'
  const cases = HOSTILE_CASES.filter((c) => (mode === 'include' ? true : mode === 'only' ? c.knownIssue !== undefined : c.knownIssue === undefined)).filter(
    (c) => options.only === undefined || c.name === options.only,
  )
  const scenario = mode === 'only' ? HOSTILE_SERVER_KNOWN : HOSTILE_SERVER
  for (let round = 0; round < env.counts.hostileServerRounds; round++) {
    for (const c of cases) {
      const seed = deriveSeed(env.seed, `hostile-server-${round}-${c.name}`)
      const home = await env.tempDir('mailkeep-rel-hostile-')
      const check = await env.ledger.run(scenario, c.name, seed, (check) => runCase(env, scenario, c, home, check))
      await env.release(home, check.problems.length === 0)
    }
  }
}

async function runCase(env: ScenarioEnv, scenario: string, c: HostileCase, home: string, check: RunCheck): Promise<void> {
  const folders = c.folders()
  const server = await startModelServer(folders)
  server.hooks = c.hooks(folders)
  const root = join(home, 'deep', 'er', 'backup', 'acct')
  try {
    await writeConfig(home, {
      accounts: [account(server, {user: 'model@example.test', password: MODEL_PASSWORD}, root, {connection_options: {port: server.port, ssl: false, timeout: 1}})],
    })
    const result = await env.cli.run(home, ['backup', '--json'], {timeoutMs: 120_000})
    env.ledger.count(scenario, `exit ${result.code}`)
    check.expect(c.exits.includes(result.code ?? -1), `${c.name}: exit ${result.code}, expected one of ${c.exits.join(', ')}: ${describeRun(result)}`)
    check.expect(!/internal error|^\s+at /m.test(result.stderr), `${c.name}: a stack trace or internal error was printed: ${describeRun(result)}`)
    if (result.code !== 0) check.expect(/error|failed|could not|refused/i.test(result.stdout + result.stderr), `${c.name}: exit ${result.code} without an error message`)
    check.expect(result.peakRssMb < RSS_LIMIT_MB, `${c.name}: peak RSS ${result.peakRssMb.toFixed(0)} MiB (limit ${RSS_LIMIT_MB})`)
    env.ledger.count(scenario, 'max RSS MiB', 0)
    const row = env.ledger.get(scenario)!
    row.notes.set('max RSS MiB', Math.max(Number(row.notes.get('max RSS MiB') ?? 0), Math.round(result.peakRssMb)))

    await expectInside(check, home, root)
    const serverProblem = c.server?.(server.fake)
    if (serverProblem !== undefined) check.problem(`${c.name}: ${serverProblem}`)
    await expectStoredMatches(check, c, root, folders, result.code === 0 && c.complete === true)
    if (existsSync(root)) await localCheck(check, configPath(home))
    if (c.noRerun === true) return

    // The server behaves again: the next run completes the backup, whatever the hostile one did.
    server.hooks = {}
    const rerun = await env.cli.run(home, ['backup'], {timeoutMs: 120_000})
    if (!check.expect(rerun.code === 0, `${c.name}: the rerun against a well-behaved server failed: ${describeRun(rerun)}`)) return
    const second = await env.cli.run(home, ['backup'], {timeoutMs: 120_000})
    check.expect(second.code === 0, `${c.name}: a second rerun failed: ${describeRun(second)}`)
    await expectStoredMatches(check, c, root, folders, true)
    await expectInside(check, home, root)
  } finally {
    await server.close()
  }
}

/** Every file under HOME is the config or inside the account root; no escape names elsewhere. */
async function expectInside(check: RunCheck, home: string, root: string): Promise<void> {
  const walk = async (dir: string): Promise<string[]> => {
    const out: string[] = []
    for (const entry of await readdir(dir, {withFileTypes: true})) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) out.push(...(await walk(path)))
      else out.push(path)
    }
    return out
  }
  for (const file of await walk(home)) {
    const inRoot = file.startsWith(root + sep)
    const isConfig = file === configPath(home)
    check.expect(inRoot || isConfig, `a file outside the account directory: ${relative(home, file)}`)
  }
  for (const dir of ['/', tmpdir()]) {
    for (const name of await readdir(dir)) check.expect(!name.includes('-mkrel'), `a file escaped to ${join(dir, name)}`)
  }
}

/**
 * What was stored is what the server had: for each local folder, its UIDVALIDITY's messages, byte
 * for byte, no UID twice, no UID the folder does not have. With `complete`, every message is there.
 */
async function expectStoredMatches(check: RunCheck, c: HostileCase, root: string, folders: ModelFolder[], complete: boolean): Promise<void> {
  if (!existsSync(root)) return
  const expected = c.expected?.(folders) ?? new Map(folders.map((f) => [f.name, new Map([[f.uidValidity, f.messages]])]))
  const store = await AccountStore.open(root, {mode: 'read', logger: silentLogger})
  try {
    const local = await store.listFolders()
    const seen = new Set<string>()
    for (const lf of local) {
      // A UIDVALIDITY change moves the old backup to `<name>-<old uidvalidity>`.
      const renamed = /^(.*)-(\d+)$/.exec(lf.name)
      const base = expected.has(lf.name) ? lf.name : renamed !== null && expected.has(renamed[1]!) ? renamed[1]! : undefined
      if (base === undefined) {
        check.problem(`${c.name}: a local folder '${JSON.stringify(lf.name)}' that the server does not have`)
        continue
      }
      seen.add(base)
      const f = await store.folder(lf.name)
      try {
        const byValidity = expected.get(base)!
        const messages = byValidity.get(f.uidValidity ?? -1)
        if (messages === undefined) {
          check.problem(`${c.name}: '${lf.name}' has UIDVALIDITY ${f.uidValidity}, the server never announced it`)
          continue
        }
        const uids = [...f.messages].map((m) => m.uid)
        check.addDuplicated(uids.length - new Set(uids).size, `${c.name}: UIDs twice in '${lf.name}'`)
        for (const m of f.messages) {
          const want = messages.find((x) => x.uid === m.uid)
          if (want === undefined) {
            check.problem(`${c.name}: '${lf.name}' stored UID ${m.uid}, which the folder does not have`)
            continue
          }
          const {bytes} = await f.readMessage(m.uid)
          check.expect(bytes.equals(want.raw), `${c.name}: '${lf.name}' UID ${m.uid} differs from the server's message`)
        }
        if (complete && renamed === null) {
          const missing = messages.filter((m) => !uids.includes(m.uid))
          check.addLost(missing.length, `${c.name}: '${lf.name}' lacks UIDs ${missing.map((m) => m.uid).join(',')}`)
        }
      } finally {
        await f.close()
      }
    }
    if (complete) for (const f of folders) if (!seen.has(f.name)) check.addLost(f.messages.length, `${c.name}: folder '${f.name}' was not backed up`)
  } finally {
    await store.close()
  }
}
