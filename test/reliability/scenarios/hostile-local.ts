/**
 * Hostile local state: a complete backup is damaged the ways disks, people and other tools damage
 * them (a truncated or garbled `.imap`, an mbox with a torn tail or junk after it, a missing
 * `.imap`, a garbled journal, a garbled or missing exactness file, metadata from a newer version, a folder directory replaced by a
 * file, symlinks pointing out of the backup directory, files and directories that cannot be
 * written). Then the real CLI runs on it: `backup` must give a clear error for that folder (exit
 * 6, 7 or 8 with the file and the next step) and back up the others; `local check` must report
 * it; where docs/repair.md says `local repair` fixes it, it must, and the next backup completes.
 * Nothing is ever deleted: every byte that was there is still in the account directory (in its
 * file, or set aside by repair), and nothing outside the directory is touched.
 */
import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {appendFile, lstat, mkdir, readFile, readdir, rename, rm, symlink, truncate, writeFile} from 'node:fs/promises'
import {dirname, join, relative} from 'node:path'
import {promisify} from 'node:util'
import {loadConfig} from '../../../src/config/index.js'
import {runBackup} from '../../../src/engine/backup/backup.js'
import {silentContext} from '../../../src/shared/context.js'
import {describe as describeRun, jsonReport} from '../lib/cli.js'
import {account, writeConfig, type ScenarioEnv} from '../lib/env.js'
import type {RunCheck} from '../lib/ledger.js'
import {addMail} from '../lib/mail.js'
import {Rng, deriveSeed} from '../lib/rng.js'
import {compareBackup, folderBase, localCheck} from '../lib/verify.js'
import type {BackupWorld} from './kill-backup.js'

export const HOSTILE_LOCAL = 'hostile local state'

const run = promisify(execFile)

interface Damage {
  /** What a run of `backup` may exit with (the damaged folder fails; the others are backed up). */
  exits: readonly number[]
  /** The error line must match this. */
  message: RegExp
  /** `local repair` fixes it (else the case undoes the damage itself, as the user would). */
  repairable: boolean
  /** Undoes the damage when it is not repairable. */
  undo?: () => Promise<void>
  /** Files outside the account directory that must stay as they were. */
  outside?: string[]
  /**
   * Not damage that `local check` can find in the files (a directory replaced by a file hides
   * the folders inside it): the check reports it as a folder the last backup could not store
   * (a `not-stored` warning, exit 0), from the record the backup keeps.
   */
  invisibleToCheck?: boolean
}

interface LocalCase {
  name: string
  /** Needs new mail on the server first (so that the backup writes to the damaged folder). */
  newMail?: boolean
  damage: (ctx: {root: string; folder: string; base: string; home: string; rng: Rng}) => Promise<Damage>
}

const DAMAGED = [6]

export const LOCAL_CASES: LocalCase[] = [
  {
    name: 'truncated .imap',
    damage: async ({base, rng}) => {
      const text = await readFile(`${base}.imap`)
      await truncate(`${base}.imap`, rng.int(1, text.length - 1))
      return {exits: DAMAGED, message: /corrupt|damaged|local repair/i, repairable: true}
    },
  },
  {
    name: 'garbled .imap (random bytes)',
    damage: async ({base, rng}) => {
      const bytes = await readFile(`${base}.imap`)
      for (let i = 0; i < 8; i++) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255)
      // Make sure it no longer parses.
      bytes[0] = 0x7e
      await writeFile(`${base}.imap`, bytes)
      return {exits: DAMAGED, message: /corrupt|damaged|local repair/i, repairable: true}
    },
  },
  {
    name: '.imap with fields of the wrong type',
    damage: async ({base}) => {
      const meta = JSON.parse(await readFile(`${base}.imap`, 'utf8')) as {uid_validity: unknown; messages: Array<{offset: unknown}>}
      meta.uid_validity = 'soon'
      if (meta.messages[0] !== undefined) meta.messages[0].offset = -5
      await writeFile(`${base}.imap`, JSON.stringify(meta))
      return {exits: DAMAGED, message: /corrupt|invalid|local repair/i, repairable: true}
    },
  },
  {
    name: 'mbox with a torn tail',
    damage: async ({base, rng}) => {
      const meta = JSON.parse(await readFile(`${base}.imap`, 'utf8')) as {messages: Array<{offset: number; length: number}>}
      const last = meta.messages[meta.messages.length - 1]!
      await truncate(`${base}.mbox`, last.offset + rng.int(1, Math.max(1, last.length - 1)))
      return {exits: DAMAGED, message: /shorter|local repair/i, repairable: true}
    },
  },
  {
    name: 'junk after the last message, no journal',
    damage: async ({base}) => {
      await appendFile(`${base}.mbox`, 'From junk@example.test Mon Jan  1 00:00:00 2024\nSubject: appended by another tool\n\nhalf a messa')
      return {exits: DAMAGED, message: /longer|local repair/i, repairable: true}
    },
  },
  {
    name: '.imap missing',
    damage: async ({base, home}) => {
      // Moved out of the way (as a careless user would), not deleted by the test either.
      await rename(`${base}.imap`, join(home, 'moved-away.imap'))
      return {exits: [0, 6], message: /metadata|local repair|no metadata/i, repairable: true}
    },
  },
  {
    name: 'garbled journal',
    damage: async ({base}) => {
      await writeFile(`${base}.imap.journal`, '{"j":1,"id":42}\n{"t":"a"}\n', {mode: 0o600})
      return {exits: DAMAGED, message: /journal|local repair/i, repairable: true}
    },
  },
  {
    name: 'garbled exactness file',
    damage: async ({base}) => {
      const original = await readFile(`${base}.mailkeep`)
      const bytes = Buffer.from(original)
      bytes[0] = 0x7e
      await writeFile(`${base}.mailkeep`, bytes)
      // Every message stays readable (as imap-backup reads it): the backup goes on, keeps the
      // damaged file aside instead of overwriting it, and warns; putting it back makes them exact.
      return {exits: [0], message: /exactness/i, repairable: false, undo: () => writeFile(`${base}.mailkeep`, original)}
    },
  },
  {
    name: 'exactness file missing',
    damage: async ({base, home}) => {
      await rename(`${base}.mailkeep`, join(home, 'moved-away.mailkeep'))
      return {exits: [0], message: /exactness/i, repairable: false, undo: () => rename(join(home, 'moved-away.mailkeep'), `${base}.mailkeep`)}
    },
  },
  {
    name: 'metadata from a newer version',
    damage: async ({base}) => {
      const original = await readFile(`${base}.imap`, 'utf8')
      const meta = JSON.parse(original) as Record<string, unknown> & {mailkeep?: Record<string, unknown>}
      meta.mailkeep = {...(meta.mailkeep ?? {}), format: 99}
      await writeFile(`${base}.imap`, JSON.stringify(meta))
      return {exits: [7], message: /newer/i, repairable: false, undo: () => writeFile(`${base}.imap`, original)}
    },
  },
  {
    name: 'folder directory replaced by a file',
    damage: async ({root, folder, home}) => {
      const dir = join(root, folder.split('/')[0]!)
      const aside = join(home, 'aside-dir')
      await rename(dir, aside)
      await writeFile(dir, 'not a directory\n', {mode: 0o600})
      // A path problem of that folder (issue 11 item 7): exit 4, the others are backed up.
      return {
        exits: [4],
        message: /is a file, not a directory/i,
        repairable: false,
        invisibleToCheck: true,
        undo: async () => {
          await rename(dir, join(home, 'the-file'))
          await rename(aside, dir)
        },
      }
    },
  },
  {
    name: 'directory symlinked out of the backup',
    damage: async ({root, folder, home}) => {
      const dir = join(root, folder.split('/')[0]!)
      const outside = join(home, 'outside-dir')
      await rename(dir, outside)
      await symlink(outside, dir)
      return {
        exits: [6, 8],
        message: /symlink|symbolic link/i,
        repairable: false,
        outside: await filesUnder(outside),
        undo: async () => {
          await rm(dir)
          await rename(outside, dir)
        },
      }
    },
  },
  {
    name: 'mbox symlinked out of the backup',
    damage: async ({base, home}) => {
      const outside = join(home, 'outside.mbox')
      await rename(`${base}.mbox`, outside)
      await symlink(outside, `${base}.mbox`)
      return {
        exits: [6, 8],
        message: /symlink|symbolic link/i,
        repairable: false,
        outside: [outside],
        undo: async () => {
          await rm(`${base}.mbox`)
          await rename(outside, `${base}.mbox`)
        },
      }
    },
  },
  {
    name: 'read-only (immutable) .imap',
    newMail: true,
    damage: async ({base}) => immutable(`${base}.imap`),
  },
  {
    name: 'read-only (immutable) mbox',
    newMail: true,
    damage: async ({base}) => immutable(`${base}.mbox`),
  },
  {
    name: 'read-only (immutable) folder directory',
    newMail: true,
    damage: async ({base}) => immutable(dirname(base)),
  },
]

/** chattr +i: even root cannot write it (chmod does not stop root). */
async function immutable(path: string): Promise<Damage> {
  await run('chattr', ['+i', path])
  return {exits: [8], message: /operation not permitted|permission denied|read-only/i, repairable: false, undo: () => run('chattr', ['-i', path]).then(() => undefined)}
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else out.push(path)
  }
  return out
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** Every file under the root (no symlink followed) with its content. */
async function snapshot(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, {withFileTypes: true})) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile() && entry.name !== '.mailkeep.lock') out.set(relative(root, path), await readFile(path))
    }
  }
  if (existsSync(root)) await walk(root)
  return out
}

/**
 * Nothing was deleted: each file's content is still in the directory: the file starts with it
 * (unchanged or appended to), or another file holds it (set aside by repair), or the file holds
 * a prefix of it and another file the rest (a torn tail copied aside before the cut).
 */
function expectNothingDeleted(check: RunCheck, what: string, before: Map<string, Buffer>, after: Map<string, Buffer>): void {
  const all = [...after.values()]
  for (const [path, content] of before) {
    if (content.length === 0) continue
    if (path.endsWith('.mailkeep') && exactRowsKept(path, content, after)) continue
    const now = after.get(path)
    if (now !== undefined && now.subarray(0, content.length).equals(content)) continue
    if (all.some((b) => b.equals(content))) continue
    if (now !== undefined) {
      let common = 0
      while (common < content.length && common < now.length && content[common] === now[common]) common++
      const rest = content.subarray(common)
      if (all.some((b) => b !== now && b.includes(rest))) continue
    }
    check.problem(`${what}: the content of ${path} (${content.length} bytes) is gone from the account directory`)
  }
}

/**
 * An exactness file is rewritten whole at every commit (its header names the last journal), like
 * `.imap`: what must never go is a row, which must still be in it or in a copy kept aside.
 */
function exactRowsKept(path: string, content: Buffer, after: Map<string, Buffer>): boolean {
  const rows = (text: Buffer): string[] | undefined => {
    try {
      return (JSON.parse(text.toString('utf8')) as {messages: unknown[]}).messages.map((r) => JSON.stringify(r))
    } catch {
      return undefined
    }
  }
  const wanted = rows(content)
  if (wanted === undefined) return false
  const kept = new Set<string>()
  for (const [name, bytes] of after) if (name === path || name.startsWith(`${path}.`)) for (const r of rows(bytes) ?? []) kept.add(r)
  return wanted.every((r) => kept.has(r))
}

export async function hostileLocalScenario(env: ScenarioEnv, world: BackupWorld): Promise<void> {
  for (let round = 0; round < env.counts.hostileLocalRounds; round++) {
    for (const c of LOCAL_CASES) {
      const seed = deriveSeed(env.seed, `hostile-local-${round}-${c.name}`)
      const home = await env.tempDir('mailkeep-rel-local-')
      const check = await env.ledger.run(HOSTILE_LOCAL, c.name, seed, (check) => runCase(env, world, c, new Rng(seed), home, check))
      await env.release(home, check.problems.length === 0)
    }
  }
}

async function runCase(env: ScenarioEnv, world: BackupWorld, c: LocalCase, rng: Rng, home: string, check: RunCheck): Promise<void> {
  const {cli, ledger} = env
  const root = join(home, 'backup', 'alice')
  // A nested folder for the directory cases, any folder with messages for the others.
  const nested = world.folders.filter((f) => f.includes('/'))
  const folder = c.name.includes('directory') && !c.name.includes('immutable') ? rng.pick(nested) : rng.pick(world.folders)
  const folders = [...new Set([folder, ...rng.sample(world.folders, 2)])]
  const config = await writeConfig(home, {accounts: [account(world.dovecot, world.user, root, {folders})]})
  const first = await runBackup({config: await loadConfig(config), refresh: false}, silentContext())
  if (!check.expect(first.exitCode === 0, `the first backup failed: ${JSON.stringify(first)}`)) return
  const base = folderBase(root, folder)
  if (!existsSync(`${base}.imap`) || (await lstat(`${base}.mbox`)).size === 0) {
    // An empty folder has nothing to damage: put something in it first.
    await addMail(world.dovecot, world.user, rng, folder, 3, undefined, 'local')
    await runBackup({config: await loadConfig(config), refresh: false}, silentContext())
  }
  if (c.newMail === true) await addMail(world.dovecot, world.user, rng, folder, rng.int(1, 10), undefined, 'local')

  const damage = await c.damage({root, folder, base, home, rng})
  const outside = new Map<string, string>()
  for (const f of damage.outside ?? []) outside.set(f, sha(await readFile(f)))
  const before = await snapshot(root)
  try {
    // backup: a clear error for that folder, the others backed up.
    const result = await cli.run(home, ['backup', '--json'])
    ledger.count(HOSTILE_LOCAL, `backup exit ${result.code}`)
    check.expect(damage.exits.includes(result.code ?? -1), `${c.name}: backup exit ${result.code}, expected ${damage.exits.join(' or ')}: ${describeRun(result)}`)
    check.expect(!/internal error|^\s+at /m.test(result.stderr), `${c.name}: a stack trace or internal error: ${describeRun(result)}`)
    if (result.code !== 0) check.expect(damage.message.test(result.stdout + result.stderr), `${c.name}: the error does not say ${damage.message}: ${describeRun(result)}`)
    const report = jsonReport<{accounts: Array<{folders: Array<{folder: string; outcome: string}>}>}>(result)
    for (const f of report?.accounts[0]?.folders ?? []) {
      if (f.folder !== folder && result.code !== 8) check.expect(f.outcome === 'ok' || f.outcome === 'unchanged', `${c.name}: the undamaged folder '${f.folder}' was ${f.outcome}`)
    }

    // local check: reports it (unless the backup could still do its job).
    const checked = await cli.run(home, ['local', 'check', '--json'])
    if (result.code !== 0 && result.code !== 8 && damage.invisibleToCheck !== true) check.expect(checked.code === 6 || checked.code === 7, `${c.name}: local check exit ${checked.code}, expected 6 or 7: ${describeRun(checked)}\nwhile backup said: ${describeRun(result)}`)
    if (damage.invisibleToCheck === true) check.expect(checked.code === 0 && checked.stdout.includes('"not-stored"'), `${c.name}: local check does not name the folder the backup could not store: ${describeRun(checked)}`)

    expectNothingDeleted(check, `${c.name} (after backup and check)`, before, await snapshot(root))
    for (const [f, hash] of outside) check.expect(existsSync(f) && sha(await readFile(f)) === hash, `${c.name}: ${f} outside the backup was changed`)

    if (damage.repairable && result.code !== 0) {
      const repaired = await cli.run(home, ['local', 'repair', world.user.user, folder, '--json'])
      ledger.count(HOSTILE_LOCAL, `repair exit ${repaired.code}`)
      check.expect(repaired.code === 0, `${c.name}: local repair exit ${repaired.code}: ${describeRun(repaired)}`)
      expectNothingDeleted(check, `${c.name} (after repair)`, before, await snapshot(root))
    } else if (damage.undo !== undefined) {
      await damage.undo()
    }

    // The next backup completes and the backup equals the server.
    const rerun = await cli.run(home, ['backup'])
    if (!check.expect(rerun.code === 0, `${c.name}: the backup after ${damage.repairable ? 'repair' : 'undoing the damage'} failed: ${describeRun(rerun)}`)) return
    await compareBackup(check, world.dovecot, world.user, root, folders)
    await localCheck(check, config)
  } finally {
    // Never leave an immutable file behind (the temp dir could not be removed).
    await run('chattr', ['-R', '-i', home]).catch(() => undefined)
    await mkdir(home, {recursive: true})
  }
}

