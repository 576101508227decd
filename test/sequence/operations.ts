/**
 * The operations a sequence is made of, and the generator that strings them together.
 *
 * A sequence is generated whole from its seed before it runs (`generateSteps`): each step is an
 * operation name and abstract arguments (a folder *slot* of the name pool, a fraction of the
 * messages, a kill delay), resolved against the server as it is when the step runs. So the step
 * list depends on the seed alone: it is printed on failure, a failure replays from its seed, and
 * a shrunk list (some steps left out) replays too. A step that does not apply (expunge in an
 * empty folder) does nothing.
 *
 * To add an operation: one entry in OPERATIONS (name, weight, argument generator, run), and a
 * line in docs/testing.md's list. `run` returns what the checks need (`Effect`); anything it
 * changes outside mailkeep (server, config, local files) it changes *before* it starts mailkeep,
 * so that the step's write check sees only mailkeep's writes.
 */
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {lstat, readFile, rename, stat, truncate, unlink} from 'node:fs/promises'
import {SSH_BANNER, startListener} from '../support/listeners.js'
import {join} from 'node:path'
import {folderName, forceUidValidityChange, type SeedMessage} from '../support/mail-seed.js'
import {freePort} from '../support/ports.js'
import {mailboxArg, type RawImapClient} from '../support/raw-imap.js'
import type {ServerKind, TestServer} from '../support/servers.js'
import {Rng} from '../reliability/lib/rng.js'
import {excluded} from './known-issues.js'
import {seqMessage} from './mail.js'
import type {Model} from './model.js'
import {messageKey} from './server-view.js'
import type {Violation} from './invariants.js'
import type {Command, Invocation, RunResult, Snapshot, Via, World} from './world.js'
import type {TestUser} from '../support/dovecot.js'

export type Args = Record<string, string | number | boolean>

export interface Step {
  op: string
  args: Args
}

/** What a step did, for the checks. */
export interface Effect {
  command?: Command
  run?: RunResult
  refresh?: boolean
  destination?: 'A' | 'B'
  appendedDuring: Array<{account: 'A' | 'B'; folder: string; key: string}>
  /** Overrides of what the checks assume about the step. */
  mirror?: boolean
  allowed?: string[]
  forbidden?: string[]
  /** Violations a combined step found itself. */
  extra?: Violation[]
  /** Something worth counting in the table (`refused by the server`, `kill landed`). */
  notes: string[]
}

export interface OpContext {
  world: World
  model: Model
  kind: ServerKind
  server: TestServer
  before: Snapshot
  /** Decisions made while the step runs (message contents), seeded by the step. */
  rng: Rng
  /** A fresh identity for an appended message. */
  newId(): string
}

export interface Operation {
  name: string
  /** Relative frequency on this server; 0 leaves it out. */
  weight(kind: ServerKind): number
  args(rng: Rng, plan: PlanState): Args
  run(ctx: OpContext, args: Args): Promise<Effect>
}

/** What an operation's argument generator may know of the plan (never the server's state). */
export interface PlanState {
  kind: ServerKind
}

// --- the folder name pool ------------------------------------------------------------------------

/** Paths in the name pool: nested ones, one that needs modified UTF-7, one with `&`, one with a space. */
export const POOL: readonly string[][] = [['INBOX'], ['Work'], ['Work', 'Sub'], ['\u00dcn\u00efc\u00f6d\u00e9'], ['A&B'], ['Archive', '2023'], ['Sp ace']]

export function poolName(server: TestServer, slot: number): string {
  const parts = POOL[slot % POOL.length]!
  return parts[0] === 'INBOX' ? 'INBOX' : folderName(server, ...parts)
}

const slot = (rng: Rng): number => rng.int(0, POOL.length - 1)

/**
 * For an operation on a folder that must exist (expunge, flags, rename, delete, recreate, a
 * UIDVALIDITY change, a repair): the slot counted among the pool folders the account has at the
 * step, so that it rarely comes to nothing; the pool name of the slot when it has none.
 */
function existing(ctx: OpContext, account: 'A' | 'B', slotNumber: number, inbox = true): string {
  const view = account === 'A' ? ctx.before.A : ctx.before.B
  const names = POOL.map((_, i) => poolName(ctx.server, i)).filter((n) => (inbox || n !== 'INBOX') && [...view.folders.values()].some((f) => f.name === n && f.selectable))
  return names.length === 0 ? poolName(ctx.server, slotNumber) : names[slotNumber % names.length]!
}

// --- helpers -------------------------------------------------------------------------------------

function user(ctx: OpContext, account: 'A' | 'B'): TestUser {
  return account === 'A' ? ctx.world.A : ctx.world.B
}

async function ensure(ctx: OpContext, account: 'A' | 'B', name: string): Promise<boolean> {
  if (name === 'INBOX') return true
  return ctx.world.imap(user(ctx, account), async (c) => {
    // Parents first: not every server makes them (servers.ts, createMakesParentFolders).
    const parts = name.slice(ctx.server.prefix.length).split(ctx.server.separator)
    for (let i = 1; i <= parts.length; i++) {
      const partial = ctx.server.prefix + parts.slice(0, i).join(ctx.server.separator)
      await c.command(`CREATE ${mailboxArg(partial)}`).catch(() => undefined)
    }
    const listed = await c.command(`LIST "" ${mailboxArg(name)}`)
    return listed.untagged.some((r) => r.kind === 'LIST' && !/\\noselect/i.test(r.raw.toString('latin1')))
  })
}

async function append(ctx: OpContext, account: 'A' | 'B', name: string, count: number): Promise<Array<{account: 'A' | 'B'; folder: string; key: string}>> {
  if (!(await ensure(ctx, account, name))) return []
  const messages: SeedMessage[] = []
  for (let i = 0; i < count; i++) messages.push(seqMessage(ctx.rng, ctx.newId(), ctx.server.facts))
  await ctx.world.append(user(ctx, account), name, messages)
  return messages.map((m) => {
    const key = messageKey(m.raw)
    ctx.model.userAppended(key)
    return {account, folder: name, key}
  })
}

function folderOf(ctx: OpContext, account: 'A' | 'B', name: string): {uids: number[]} | undefined {
  const view = account === 'A' ? ctx.before.A : ctx.before.B
  const f = [...view.folders.values()].find((x) => x.name === name && x.selectable)
  return f === undefined ? undefined : {uids: f.messages.map((m) => m.uid)}
}

/** `frac` of the UIDs (at least one), chosen by the step's rng. */
function some(ctx: OpContext, uids: readonly number[], frac: number): number[] {
  if (uids.length === 0) return []
  const n = Math.max(1, Math.round(uids.length * frac))
  return ctx.rng.sample(uids, n)
}

async function withSelected(ctx: OpContext, account: 'A' | 'B', name: string, fn: (c: RawImapClient) => Promise<void>): Promise<void> {
  await ctx.world.imap(user(ctx, account), async (c) => {
    await c.command(`SELECT ${mailboxArg(name)}`)
    await fn(c)
  })
}

const VIAS: readonly Via[] = ['engine', 'engine', 'engine', 'engine', 'engine', 'engine', 'engine', 'cli', 'kill', 'kill', 'int']

function runArgs(rng: Rng): Args {
  return {via: rng.pick(VIAS), delay: rng.int(0, 300), during: rng.chance(0.15) ? rng.int(0, 400) : -1, into: slot(rng)}
}

/**
 * Runs mailkeep as `args.via` says; with `args.during` ≥ 0, another client appends a message to
 * folder `args.into` of account `duringAccount` that many milliseconds after the start.
 */
async function runMailkeep(ctx: OpContext, inv: Invocation, args: Args, duringAccount: 'A' | 'B' = 'A'): Promise<Effect> {
  const appended: Effect['appendedDuring'] = []
  const via = args.via as Via
  const delay = Number(args.delay)
  const running = ctx.world.run(inv, via, delay)
  if (Number(args.during) >= 0) {
    const name = poolName(ctx.server, Number(args.into))
    await new Promise((resolve) => setTimeout(resolve, Number(args.during)))
    appended.push(...(await append(ctx, duringAccount, name, 1)))
  }
  const run = await running
  const notes = [via === 'kill' || via === 'int' ? (run.landed ? `${via} landed` : `${via} after the end`) : `via ${via}`]
  return {command: inv.command, run, appendedDuring: appended, notes, ...(inv.refresh === undefined ? {} : {refresh: inv.refresh})}
}

// --- the operations -------------------------------------------------------------------------------

const none = (): Effect => ({appendedDuring: [], notes: []})

export const OPERATIONS: readonly Operation[] = [
  // Server side, account A unless said otherwise.
  {
    name: 'append',
    weight: () => 14,
    args: (rng) => ({folder: slot(rng), n: rng.int(1, 3)}),
    run: async (ctx, a) => ({...none(), appendedDuring: [], notes: [`${(await append(ctx, 'A', poolName(ctx.server, Number(a.folder)), Number(a.n))).length} appended`]}),
  },
  {
    name: 'append-copy',
    weight: () => 1,
    args: (rng) => ({folder: slot(rng), pick: rng.int(0, 1000)}),
    run: async (ctx, a) => {
      // Another message with exactly the bytes of one the user already has: two messages, one content.
      const all = [...ctx.before.A.folders.values()].flatMap((f) => f.messages.map((m) => ({f, m})))
      if (all.length === 0) return none()
      const {f, m} = all[Number(a.pick) % all.length]!
      const raw = await ctx.world.imap(ctx.world.A, async (c) => {
        await c.command(`EXAMINE "${f.wire}"`)
        const r = await c.command(`UID FETCH ${m.uid} (BODY.PEEK[])`)
        const list = r.untagged.find((x) => x.kind === 'FETCH')?.values[0]
        return Array.isArray(list) ? list[list.findIndex((v) => String(v).toUpperCase() === 'BODY[]') + 1] : undefined
      })
      if (!Buffer.isBuffer(raw) || raw.length === 0) return none()
      const target = poolName(ctx.server, Number(a.folder))
      if (!(await ensure(ctx, 'A', target))) return none()
      await ctx.world.append(ctx.world.A, target, [{raw}])
      ctx.model.userAppended(messageKey(raw))
      return {...none(), notes: ['copy appended']}
    },
  },
  {
    name: 'expunge',
    weight: () => 7,
    args: (rng) => ({folder: slot(rng), frac: rng.pick([0.2, 0.5, 1]), account: rng.chance(0.2) ? 'B' : 'A'}),
    run: async (ctx, a) => {
      const account = a.account as 'A' | 'B'
      const name = existing(ctx, account, Number(a.folder))
      const uids = some(ctx, folderOf(ctx, account, name)?.uids ?? [], Number(a.frac))
      if (uids.length === 0) return none()
      await withSelected(ctx, account, name, async (c) => {
        await c.command(`UID STORE ${uids.join(',')} +FLAGS.SILENT (\\Deleted)`)
        await c.command(`UID EXPUNGE ${uids.join(',')}`)
      })
      return {...none(), notes: [`${uids.length} expunged`]}
    },
  },
  {
    name: 'flags',
    weight: () => 7,
    args: (rng) => ({folder: slot(rng), frac: rng.pick([0.3, 1]), how: rng.pick(['+', '-', '']), flags: rng.pick(['\\Seen', '\\Flagged', '$Label1 Work', '\\Answered $Forwarded', '\\Seen \\Draft'])}),
    run: async (ctx, a) => {
      const name = existing(ctx, 'A', Number(a.folder))
      const uids = some(ctx, folderOf(ctx, 'A', name)?.uids ?? [], Number(a.frac))
      if (uids.length === 0) return none()
      await withSelected(ctx, 'A', name, async (c) => {
        await c.command(`UID STORE ${uids.join(',')} ${String(a.how)}FLAGS.SILENT (${String(a.flags)})`)
      })
      return {...none(), notes: ['flags changed']}
    },
  },
  {
    name: 'create',
    weight: () => 4,
    args: (rng) => ({folder: slot(rng)}),
    run: async (ctx, a) => {
      await ensure(ctx, 'A', poolName(ctx.server, Number(a.folder)))
      return none()
    },
  },
  {
    name: 'rename',
    weight: () => 3,
    args: (rng) => ({from: rng.int(1, POOL.length - 1), to: rng.int(1, POOL.length - 1)}),
    run: async (ctx, a) => {
      const from = existing(ctx, 'A', Number(a.from), false)
      const to = poolName(ctx.server, Number(a.to))
      if (from === to || folderOf(ctx, 'A', from) === undefined || [...ctx.before.A.folders.values()].some((f) => f.name === to)) return none()
      try {
        await ctx.world.imap(ctx.world.A, (c) => c.command(`RENAME ${mailboxArg(from)} ${mailboxArg(to)}`))
        // RENAME moves the children too (RFC 3501 §6.3.5): an unstorable folder below `from`, and
        // the blocking folder beside it, are unstorable under `to` now. The old names stay in the
        // set: the local backup of a blocker stays where it was, and blocks a folder made again
        // there (found by the soak, Dovecot seed 764945148: S13 for the renamed folder).
        const sep = ctx.server.separator
        for (const u of [...ctx.model.unstorable]) if (u === from || u.startsWith(`${from}${sep}`)) ctx.model.unstorable.add(`${to}${u.slice(from.length)}`)
        return {...none(), notes: ['renamed']}
      } catch {
        return {...none(), notes: ['rename refused by the server']}
      }
    },
  },
  {
    name: 'delete',
    weight: () => 3,
    args: (rng) => ({folder: rng.int(1, POOL.length - 1)}),
    run: async (ctx, a) => {
      await deleteTree(ctx, existing(ctx, 'A', Number(a.folder), false))
      return none()
    },
  },
  {
    name: 'recreate',
    weight: () => 3,
    args: (rng) => ({folder: rng.int(1, POOL.length - 1), n: rng.int(0, 2)}),
    run: async (ctx, a) => {
      // Delete and create again: a new UIDVALIDITY (RFC 3501 §2.3.1.1) and none of the old mail.
      const name = existing(ctx, 'A', Number(a.folder), false)
      if (folderOf(ctx, 'A', name) === undefined) return none()
      await deleteTree(ctx, name)
      await ensure(ctx, 'A', name)
      await append(ctx, 'A', name, Number(a.n))
      return {...none(), notes: ['recreated']}
    },
  },
  {
    name: 'uidvalidity',
    weight: () => 2,
    args: (rng) => ({folder: slot(rng)}),
    run: async (ctx, a) => {
      // The administrator's way: same messages, new UIDVALIDITY (Courier also numbers anew).
      const name = existing(ctx, 'A', Number(a.folder))
      if (folderOf(ctx, 'A', name) === undefined) return none()
      await forceUidValidityChange(ctx.server, ctx.world.A, name)
      return {...none(), notes: ['UIDVALIDITY changed']}
    },
  },
  {
    name: 'collide',
    weight: () => 1,
    args: (rng) => ({folder: rng.int(1, POOL.length - 1)}),
    run: async (ctx, a) => {
      // A second spelling of an existing name (its first letter in modified UTF-7): two folders
      // that decode alike (issue 11 item 6). Dovecot and Cyrus refuse it, Courier takes it; both
      // names are then checked by S1, S6 and S7.
      const name = poolName(ctx.server, Number(a.folder))
      await ensure(ctx, 'A', name)
      const tail = name.slice(ctx.server.prefix.length)
      const first = tail.codePointAt(0)!
      const b64 = Buffer.from(String.fromCodePoint(first), 'utf16le').swap16().toString('base64').replace(/=+$/, '')
      const wire = `${ctx.server.prefix}&${b64}-${tail.slice(String.fromCodePoint(first).length)}`
      try {
        await ctx.world.imap(ctx.world.A, (c) => c.command(`CREATE "${wire}"`))
        return {...none(), notes: ['colliding name accepted']}
      } catch {
        return {...none(), notes: ['colliding name refused by the server']}
      }
    },
  },
  {
    name: 'unstorable',
    weight: () => 1,
    args: (rng) => ({folder: rng.int(1, POOL.length - 1), how: rng.pick(['long', 'blocker'])}),
    run: async (ctx, a) => {
      // A folder whose local path cannot be made (issue 11 item 7): a name longer than a file
      // name may be, or `<name>.imap/2023`, whose directory `<name>.imap` takes the place of
      // folder `<name>`'s metadata file (only where the separator is '/').
      const base = poolName(ctx.server, Number(a.folder))
      if (a.how === 'long' || ctx.server.separator !== '/') {
        const name = folderName(ctx.server, `L${'o'.repeat(228)}ng`)
        await ensure(ctx, 'A', name)
        ctx.model.unstorable.add(name)
        return {...none(), notes: ['too long a name']}
      }
      const name = `${base}.imap/2023`
      await ensure(ctx, 'A', name)
      ctx.model.unstorable.add(name)
      ctx.model.unstorable.add(base)
      return {...none(), notes: ['blocking name']}
    },
  },
  {
    name: 'b-append',
    weight: () => 3,
    args: (rng) => ({folder: rng.pick([0, 0, 1, 3]), n: rng.int(1, 2)}),
    run: async (ctx, a) => {
      await append(ctx, 'B', poolName(ctx.server, Number(a.folder)), Number(a.n))
      return none()
    },
  },

  // mailkeep.
  {
    name: 'backup',
    weight: () => 16,
    args: (rng) => ({...runArgs(rng), refresh: rng.chance(0.3)}),
    run: (ctx, a) => runMailkeep(ctx, {command: 'backup', refresh: a.refresh === true}, a),
  },
  {
    name: 'restore',
    weight: () => 4,
    args: (rng) => ({...runArgs(rng)}),
    run: async (ctx, a) => ({...(await runMailkeep(ctx, {command: 'restore', to: 'own'}, a)), destination: 'A'}),
  },
  {
    name: 'restore-to-b',
    weight: () => 3,
    args: (rng) => ({...runArgs(rng)}),
    run: async (ctx, a) => ({...(await runMailkeep(ctx, {command: 'restore', to: 'B'}, a, 'B')), destination: 'B'}),
  },
  ...(['copy', 'mirror', 'migrate'] as const).map(
    (command): Operation => ({
      name: command,
      weight: () => (command === 'migrate' ? 2 : 3),
      args: (rng) => ({...runArgs(rng)}),
      run: async (ctx, a) => ({...(await runMailkeep(ctx, {command}, a, 'B')), destination: 'B', ...(command === 'migrate' ? {} : {refresh: true})}),
    }),
  ),
  {
    name: 'repair',
    weight: () => 3,
    args: (rng) => ({...runArgs(rng), during: -1, folder: slot(rng), damage: rng.pick(['none', 'truncate', 'truncate', 'remove'])}),
    run: async (ctx, a) => {
      const name = existing(ctx, 'A', Number(a.folder))
      const base = join(ctx.world.rootA, ...name.split('/'))
      let damaged = false
      // Only a regular file: an `unstorable` step may have put a directory under that name.
      if (a.damage !== 'none' && (await isFile(`${base}.imap`))) {
        // The test damages the metadata (as a crash of another tool or a disk error would), then
        // asks mailkeep to repair it (docs/repair.md).
        if (a.damage === 'remove') await unlink(`${base}.imap`)
        else await truncate(`${base}.imap`, Math.floor((await stat(`${base}.imap`)).size / 2))
        damaged = true
      }
      const effect = await runMailkeep(ctx, {command: 'repair', ...(damaged ? {folder: name} : {})}, a)
      effect.notes.push(damaged ? `${String(a.damage)} .imap` : 'nothing damaged')
      return effect
    },
  },
  {
    name: 'ignore-history',
    weight: () => 2,
    args: (rng) => ({...runArgs(rng)}),
    run: (ctx, a) => runMailkeep(ctx, {command: 'ignore-history'}, a),
  },

  // Configuration.
  {
    name: 'mirror-mode',
    weight: () => 3,
    args: (rng) => ({on: rng.chance(0.5)}),
    run: async (ctx, a) => {
      ctx.world.mirror = a.on === true
      await ctx.world.writeConfig()
      return none()
    },
  },
  {
    name: 'select',
    weight: () => 4,
    args: (rng) => ({mode: rng.pick(['all', 'all', 'list', 'blacklist']), mask: rng.int(1, 2 ** POOL.length - 1)}),
    run: async (ctx, a) => {
      const names = POOL.map((_, i) => poolName(ctx.server, i)).filter((_, i) => (Number(a.mask) >> i) & 1)
      ctx.world.selection = a.mode === 'all' ? {mode: 'all'} : {mode: a.mode as 'list' | 'blacklist', names}
      await ctx.world.writeConfig()
      return none()
    },
  },

  // Every run ends (issue 11 items 12, 13, 15) and stays in its own directory (item 8).
  {
    name: 'fifo',
    weight: () => 1,
    args: (rng) => ({where: rng.pick(['journal', 'imap', 'lock', 'rename'])}),
    run: (ctx, a) => fifoStep(ctx, String(a.where)),
  },
  {
    name: 'password-child',
    weight: () => 1,
    args: () => ({}),
    run: (ctx) => passwordChildStep(ctx),
  },
  {
    name: 'wrong-port',
    weight: () => 1,
    args: (rng) => ({answer: rng.pick(['refused', 'silent', 'ssh'])}),
    run: (ctx, a) => wrongPortStep(ctx, String(a.answer)),
  },
  {
    name: 'nested-paths',
    weight: () => 1,
    args: () => ({}),
    run: (ctx) => nestedPathsStep(ctx),
  },
]

async function deleteTree(ctx: OpContext, name: string): Promise<void> {
  if (name === 'INBOX') return
  const doomed = [...ctx.before.A.folders.values()]
    .filter((f) => f.name === name || f.name.startsWith(name + ctx.server.separator))
    .sort((x, y) => y.name.length - x.name.length)
  if (doomed.length === 0) return
  await ctx.world.imap(ctx.world.A, async (c) => {
    for (const f of doomed) await c.command(`DELETE "${f.wire.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`).catch(() => undefined)
  })
}

const DEADLINE_MS = 60_000

/** A FIFO where the backup has (or will want) a regular file, then `backup` and `local check` as real processes. */
async function fifoStep(ctx: OpContext, where: string): Promise<Effect> {
  const local = [...ctx.before.backup.folders.values()][0]
  const base = local === undefined ? undefined : join(ctx.world.rootA, ...local.relativePath.split('/'))
  const path = where === 'lock' || base === undefined ? join(ctx.world.rootA, '.mailkeep.lock') : `${base}${where === 'journal' ? '.imap.journal' : where === 'rename' ? '.rename' : '.imap'}`
  const aside = join(ctx.world.dir, 'own', 'fifo-aside')
  const hadFile = existsSync(path)
  if (!existsSync(ctx.world.rootA)) return none()
  if (hadFile) await rename(path, aside)
  execFileSync('mkfifo', ['-m', '600', path])
  const extra: Violation[] = []
  const notes: string[] = [`FIFO at ${where}`]
  try {
    for (const inv of [{command: 'backup'} as Invocation]) {
      const run = await ctx.world.run(inv, 'cli', 0, DEADLINE_MS)
      if (run.signal === 'deadline') extra.push({invariant: 'S12', message: `with a FIFO at ${ctx.world.rel(path)}, '${ctx.world.cliArgs(inv).join(' ')}' did not end within ${DEADLINE_MS / 1000} s`})
    }
    const check = await ctx.world.runCheckCli(DEADLINE_MS)
    if (check === 'deadline') extra.push({invariant: 'S12', message: `with a FIFO at ${ctx.world.rel(path)}, 'local check' did not end within ${DEADLINE_MS / 1000} s`})
  } finally {
    await unlink(path).catch(() => undefined)
    if (hadFile) await rename(aside, path)
  }
  return {appendedDuring: [], notes, extra}
}

/** A password_command that leaves a background child holding its output. */
async function passwordChildStep(ctx: OpContext): Promise<Effect> {
  const pidFile = join(ctx.world.dir, 'own', 'password-child.pid')
  const password = ctx.world.A.password.replace(/'/g, `'\\''`)
  // The child keeps the command's stdout (what mailkeep reads) open; its stderr goes nowhere, so
  // that it does not hold the CLI's stderr, which the test reads to the end.
  ctx.world.overrideA = {password: undefined, password_command: `printf '%s\\n' '${password}'; sleep 300 2>/dev/null & echo $! > '${pidFile}'`}
  await ctx.world.writeConfig()
  try {
    // S12 (the run's deadline) and the rest of the checks of a completed backup apply as usual.
    const run = await ctx.world.run({command: 'backup'}, 'cli', 0, DEADLINE_MS)
    return {command: 'backup', run, appendedDuring: [], notes: ['password child']}
  } finally {
    ctx.world.overrideA = {}
    await ctx.world.writeConfig()
    // The child this step's password command started: ended by its pid.
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim())
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  }
}

/** Account A pointed at a port where nothing, something silent, or an SSH server answers. */
async function wrongPortStep(ctx: OpContext, answer: string): Promise<Effect> {
  // A port where nothing listens, or a listener that never answers, or one that answers as an
  // SSH server does (test/support/listeners.ts: its close() ends the connections the CLI left,
  // which a bare net.Server's close() would wait for forever).
  const listener = answer === 'refused' ? undefined : await startListener(answer === 'ssh' ? SSH_BANNER : undefined)
  const port = listener?.port ?? (await freePort())
  ctx.world.overrideA = {connection_options: {port, ssl: false}}
  await ctx.world.writeConfig()
  try {
    const run = await ctx.world.run({command: 'backup'}, 'cli', 0, DEADLINE_MS)
    const extra: Violation[] = []
    if (run.signal === 'deadline') extra.push({invariant: 'S12', message: `a backup against a port where ${answer === 'refused' ? 'nothing listens' : answer === 'ssh' ? 'an SSH server answers' : 'nothing answers'} did not end within ${DEADLINE_MS / 1000} s`})
    else if (run.exitCode !== 111) extra.push({invariant: 'S12', message: `a backup against a wrong port (${answer}) ended with exit ${run.exitCode}, not 111\n${run.output}`})
    // Not a completed backup for the checks: the account cannot even connect, by design.
    return {appendedDuring: [], notes: [`wrong port (${answer})`], extra}
  } finally {
    ctx.world.overrideA = {}
    await ctx.world.writeConfig()
    await listener?.close()
  }
}

/** Account B's local_path inside A's: a backup of B, then a mirror-mode backup of A (issue 11 item 8). */
async function nestedPathsStep(ctx: OpContext): Promise<Effect> {
  const w = ctx.world
  const nested = join(w.rootA, 'nested-b')
  const mirror = w.mirror
  w.rootBOverride = nested
  w.mirror = true
  await w.writeConfig()
  const extra: Violation[] = []
  try {
    const b = await w.run({command: 'backup', accounts: [w.B.user]}, 'engine', 0)
    const outsideB = b.written.filter((p) => !p.startsWith(`${w.rel(nested)}/`) && p !== w.rel(nested) && !w.rel(nested).startsWith(`${p}/`))
    if (outsideB.length > 0) extra.push({invariant: 'S8', message: `backup of B (local_path inside A's) wrote outside its local_path: ${outsideB.slice(0, 5).join(', ')}`})
    const a = await w.run({command: 'backup', accounts: [w.A.user]}, 'engine', 0)
    const intoB = a.written.filter((p) => p.startsWith(`${w.rel(nested)}/`))
    if (intoB.length > 0) extra.push({invariant: 'S8', message: `mirror-mode backup of A wrote inside account B's local_path (nested in A's): ${intoB.slice(0, 5).join(', ')}`})
    // Nested local_paths are a config error (docs/config.md): both runs are refused before
    // anything is written (exit 3, docs/exit-codes.md), not merely kept apart.
    for (const [who, r] of [['B', b], ['A', a]] as const) {
      if (r.exitCode !== 3) extra.push({invariant: 'S8', message: `backup of ${who} with B's local_path nested in A's exited ${String(r.exitCode)}, not 3 (config refused)`})
    }
    return {appendedDuring: [], notes: [`nested paths: exits ${b.exitCode}, ${a.exitCode}`], extra, mirror: true}
  } finally {
    w.rootBOverride = undefined
    w.mirror = mirror
    await w.writeConfig()
    await w.removeTree(nested)
  }
}

// --- generation ----------------------------------------------------------------------------------

/**
 * Pairs of operations one sequence does not hold together while a known issue is excluded
 * (known-issues.ts), whatever their order; `kind` for an exclusion that concerns one server.
 * None at present: add `{issue, a, b}` with the issue's entry in KNOWN_ISSUES.
 */
const CONFLICTS: ReadonlyArray<{issue: string; a: string; b: string; kind?: ServerKind}> = []

function conflicts(a: string, b: string, kind: ServerKind): boolean {
  return CONFLICTS.some((c) => (c.kind === undefined || c.kind === kind) && ((a === c.a && b === c.b) || (a === c.b && b === c.a)) && excluded(c.issue))
}

export interface Plan {
  seed: number
  /** Which pair of the server's users (World.begin): bit 8 of the seed. */
  pair: number
  strategy: string
  /** mirror_mode at the start (the `mirror-mode` step switches it). */
  mirror: boolean
  steps: Step[]
}

/** The operations a plan on `kind` can hold, in a fixed order (the featured operations of a seed index it). */
export function enabledOperations(kind: ServerKind): Operation[] {
  return OPERATIONS.filter((op) => op.weight(kind) > 0)
}

/** Featured operations per plan (see generatePlan). */
export const FEATURED = 3

/**
 * The plan of a seed: two appends, then random operations by weight. The seed's low byte names
 * FEATURED operations, spread over the list of enabled ones, that the plan holds at random
 * positions: a suite gives its sequences consecutive low bytes (runner.ts `sequenceSeed`), so
 * that every operation runs several times even in a short CI budget (about 3 × count / n times
 * each), and a replay from the seed alone makes the same plan.
 */
export function generatePlan(seed: number, kind: ServerKind, length?: number): Plan {
  const rng = new Rng(seed)
  const enabled = enabledOperations(kind)
  const state: PlanState = {kind}
  const strategy = rng.pick(['delay_metadata', 'delay_metadata', 'direct', 'delay_all'])
  const mirror = rng.chance(0.3)
  const head: Step[] = [{op: 'append', args: {folder: 0, n: rng.int(1, 4)}}, {op: 'append', args: {folder: rng.int(1, POOL.length - 1), n: rng.int(1, 3)}}]
  const total = length ?? rng.int(8, 14)
  const chosen: Array<Operation | undefined> = new Array(total - head.length).fill(undefined)
  const stride = Math.max(1, Math.round(enabled.length / FEATURED))
  const free = chosen.map((_, i) => i)
  for (let j = 0; j < FEATURED && free.length > 0; j++) {
    const op = enabled[((seed & 0xff) + j * stride) % enabled.length]!
    if (chosen.some((c) => c !== undefined && (c === op || conflicts(c.name, op.name, kind)))) continue
    chosen[free.splice(rng.int(0, free.length - 1), 1)[0]!] = op
  }
  for (let i = 0; i < chosen.length; i++) {
    if (chosen[i] !== undefined) continue
    const candidates = enabled.filter((op) => !chosen.some((c) => c !== undefined && conflicts(c.name, op.name, kind)))
    const sum = candidates.reduce((n, op) => n + op.weight(kind), 0)
    let roll = rng.next() * sum
    chosen[i] = candidates.find((o) => (roll -= o.weight(kind)) < 0) ?? candidates[candidates.length - 1]!
  }
  const steps = [...head, ...chosen.map((op) => ({op: op!.name, args: op!.args(rng, state)}))]
  return {seed, pair: (seed >> 8) & 1, strategy, mirror, steps}
}

export function describeStep(step: Step): string {
  const args = Object.entries(step.args)
    .filter(([k, v]) => !(k === 'during' && v === -1) && !(k === 'into' && step.args.during === -1) && !(k === 'delay' && step.args.via !== 'kill' && step.args.via !== 'int'))
    .map(([k, v]) => `${k}=${String(v)}`)
  return `${step.op}${args.length > 0 ? ` ${args.join(' ')}` : ''}`
}

/**
 * The plan written as text, one step per `;` in `describeStep`'s form (`backup via=kill
 * delay=120; flags folder=0 frac=1 how=+ flags=\\Seen`): arguments left out take the values a
 * run of the operation has when nothing is special (in process, nothing appended meanwhile).
 * For writing a scenario by hand (MAILKEEP_SEQUENCE_PLAN).
 */
export function parsePlan(text: string, kind: ServerKind, seed = 1): Plan {
  const steps = text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s): Step => {
      const [name = '', ...words] = s.split(/\s+/)
      const op = operation(name)
      const args: Args = {...op.args(new Rng(seed), {kind})}
      if ('via' in args) Object.assign(args, {via: 'engine', delay: 0, during: -1, into: 0})
      if ('refresh' in args) args.refresh = false
      for (const word of words) {
        const eq = word.indexOf('=')
        if (eq < 0) throw new Error(`step '${s}': '${word}' is not key=value`)
        const key = word.slice(0, eq)
        const value = word.slice(eq + 1)
        // A flag list may hold spaces: `flags=$Label1+Work` is read as '$Label1 Work'.
        args[key] = value === 'true' ? true : value === 'false' ? false : /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value.replace(/\+(?=\S)/g, ' ')
      }
      return {op: name, args}
    })
  return {seed, pair: 0, strategy: 'delay_metadata', mirror: false, steps}
}

export function operation(name: string): Operation {
  const op = OPERATIONS.find((o) => o.name === name)
  if (op === undefined) throw new Error(`unknown operation '${name}'`)
  return op
}

/** A regular file is there (not a directory or link an `unstorable` step made). */
async function isFile(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isFile() === true
}
