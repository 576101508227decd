/**
 * The invariants of the sequence test (docs/reliability.md, "Invariants of the sequence test"):
 * pure functions of what the servers and the backup held before and after one step, what the
 * step did, and the model's history. They return violations, never throw, so that a step is
 * checked against every invariant and a soak can count them.
 *
 * S1  kept            a completed backup holds every message a selected folder had throughout
 *                     the run, byte for byte, with its flags as of that backup
 * S2  not doubled     a local folder holds each UID once, and under each UID the message the
 *                     server folder had under it (no altered, invented or second copy)
 * S3  uploads bound   restore, copy, mirror, migrate add to a destination account at most the
 *                     copies of a message that the backup's folders hold and their namesakes
 *                     there lacked
 * S4  mirror keeps    mirror mode never removes from the backup a message still on the server
 * S5  mirror removes  a completed mirror backup holds nothing the server no longer had
 * S6  no silent skip  a selected server folder is backed up or reported failed with a non-zero
 *                     exit status; an unselected one is named as such
 * S7  one to one      no two server folders are backed up into one local folder
 * S8  stays inside    a run writes nothing outside the account's local_path; an upload writes
 *                     no backup file
 * S9  check clean     `local check` finds nothing after a run that exited 0 (but that a folder
 *                     the test made unstorable was not stored)
 * S10 keep-all keeps  in keep-all mode nothing ever leaves the backup
 * S11 at rest         the backup's files are well-formed and nothing is left half done
 * S12 every run ends  within its deadline, with an exit status of docs/exit-codes.md (never 70)
 * S13 failures own    an unperturbed backup fails only folders the test made unstorable; an
 *                     unperturbed upload fails no folder
 * S14 uploads whole   a restore or mirror that exited 0 put every backed-up message there;
 *                     ignore-history's placeholders are not mail: no upload puts one anywhere
 * S15 no empty aside  a UIDVALIDITY change of a folder with no message keeps nothing aside
 * S16 repair flags    a message `local repair` matched to the server gets the server's flags
 */
import {sha, storedForm, type BackupReading, type LocalFolder} from './backup-reader.js'
import {familyOf, placeholder, type Model} from './model.js'
import {encodeMailboxName} from '../support/raw-imap.js'
import {copiesByKey, messageKey, type AccountView, type ServerFolder} from './server-view.js'
import type {CheckFinding, Command, RunResult, Selection, Snapshot} from './world.js'

export interface Violation {
  invariant: string
  message: string
  lost?: number
  duplicated?: number
}

/** What the checks need to know about one step. */
export interface StepFacts {
  /** The step as printed. */
  label: string
  command?: Command
  run?: RunResult
  /** Account A's mirror_mode and folder selection while the step ran. */
  mirror: boolean
  selection: Selection
  refresh: boolean
  /** The server has CONDSTORE (RFC 7162): flags are cheap to keep current. */
  condstore: boolean
  /** Uploads: which account received. */
  destination?: 'A' | 'B'
  /** Messages the test appended while the run went on. */
  appendedDuring: Array<{account: 'A' | 'B'; folder: string; key: string}>
  /** Problems recovery met after an interrupted run. */
  recovery: string[]
  /** `local check` findings after the step (undefined when it was not run). */
  localCheck?: CheckFinding[]
  /** Paths (relative to the sandbox) the run may write: the account's local_path. */
  allowed: string[]
  /** Paths inside `allowed` it must not write (another account's local_path nested inside). */
  forbidden: string[]
  /** Extra deadline-style facts from combined steps. */
  userAccount: string
}

// --- report shapes (only what the checks read; the engine's types may grow) -----------------------

interface FolderEntry {
  folder: string
  outcome: string
  renamedTo?: string
  error?: {message?: string}
}
interface AccountEntry {
  account: string
  outcome: string
  error?: {message?: string}
  folders: FolderEntry[]
  unselected?: Array<{folder: string}>
}
interface BackupReportShape {
  exitCode: number
  accounts: AccountEntry[]
}
interface TransferFolderShape {
  source: string
  destination: string
  outcome: string
  error?: {message?: string}
}
interface TransferReportShape {
  exitCode: number
  backup?: BackupReportShape
  folders: TransferFolderShape[]
}
interface RepairReportShape {
  exitCode: number
  folders: Array<{name: string; action: string}>
}

export const DOCUMENTED_EXIT_CODES: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 111, 130, 143])

// --- helpers -------------------------------------------------------------------------------------

/** imap-backup's folder selection (compat §6.2): `folders` empty or absent means all. */
export function isSelected(name: string, selection: Selection): boolean {
  if (selection.mode === 'all' || selection.names.length === 0) return true
  const listed = selection.names.includes(name)
  return selection.mode === 'list' ? listed : !listed
}

function selectedFolders(view: AccountView, selection: Selection): ServerFolder[] {
  return [...view.folders.values()].filter((f) => f.selectable && isSelected(f.name, selection))
}

function keysOf(view: AccountView, folders?: readonly ServerFolder[]): Set<string> {
  const out = new Set<string>()
  for (const f of folders ?? view.folders.values()) for (const m of f.messages) out.add(m.key)
  return out
}

export function entryKey(entry: {exact: Buffer | undefined; normalised: Buffer}): string {
  return messageKey(entry.exact ?? entry.normalised)
}

export function backupKeys(backup: BackupReading): Map<string, number> {
  const out = new Map<string, number>()
  for (const f of backup.folders.values()) for (const e of f.entries) out.set(entryKey(e), (out.get(entryKey(e)) ?? 0) + 1)
  return out
}

/**
 * How many copies of each message each folder of the backup holds, as uploads count them
 * (docs/upload-maps.md, U7): per family (a folder and the backups kept aside from it, which go
 * into one destination folder), copies of one message count once unless the user made several.
 */
export function backupCopies(backup: BackupReading, model: Model): Map<string, Map<string, number>> {
  const perFamily = new Map<string, Map<string, number>>()
  for (const f of backup.folders.values()) {
    const family = familyOf(f.name, f.uidValidity, model)
    let counts = perFamily.get(family)
    if (counts === undefined) perFamily.set(family, (counts = new Map()))
    for (const e of f.entries) counts.set(entryKey(e), (counts.get(entryKey(e)) ?? 0) + 1)
  }
  for (const counts of perFamily.values()) {
    for (const [key, n] of counts) counts.set(key, Math.min(n, Math.max(1, model.userCopies.get(key) ?? 0)))
  }
  return perFamily
}

/**
 * The report entries that stand for server folder `f`. A folder whose wire name is the canonical
 * modified UTF-7 spelling of its name is reported under that name; another spelling of the same
 * name (two folders that decode alike, issue 11 item 6) under a name made distinct
 * (`name [spelling]`), or, by a mailkeep that does not tell them apart, under the same name.
 */
function entriesFor(account: AccountEntry, f: ServerFolder): FolderEntry[] {
  if (isCanonical(f)) return account.folders.filter((e) => e.folder === f.name)
  const distinct = account.folders.filter((e) => e.folder.startsWith(`${f.name} [`) && e.folder.endsWith(']'))
  return distinct.length > 0 ? distinct : account.folders.filter((e) => e.folder === f.name)
}

export function isCanonical(f: Pick<ServerFolder, 'name' | 'wire'>): boolean {
  return encodeMailboxName(f.name) === f.wire
}

const short = (uids: readonly number[]): string => `${uids.slice(0, 8).join(',')}${uids.length > 8 ? ',…' : ''}`

function backupOf(facts: StepFacts): BackupReportShape | undefined {
  const run = facts.run
  if (run === undefined || !run.completed || run.report === undefined) return undefined
  if (facts.command === 'backup') return run.report as BackupReportShape
  if (facts.command === 'copy' || facts.command === 'mirror') return (run.report as TransferReportShape).backup
  return undefined
}

// --- the checks ----------------------------------------------------------------------------------

export function checkStep(before: Snapshot, after: Snapshot, facts: StepFacts, model: Model): Violation[] {
  const out: Violation[] = []
  learn(before, after, facts, model)
  atRest(after.backup, facts, out)
  notDoubled(after.backup, model, out)
  keepAllKeeps(before, after, facts, out)
  if (facts.run !== undefined) {
    endsInTime(facts, out)
    staysInside(facts, out)
  }
  if (facts.mirror && (facts.command === 'backup' || facts.command === 'copy' || facts.command === 'mirror')) mirrorKeeps(before, after, facts, out)
  const backup = backupOf(facts)
  if (backup !== undefined) completedBackup(before, after, facts, backup, model, out)
  if (backup !== undefined) learnBackedUp(backup, facts, model)
  if (facts.destination !== undefined) uploadsBound(before, after, facts, model, out)
  if (facts.destination !== undefined) uploadFailures(facts, out)
  if (facts.destination !== undefined) noPlaceholderUploaded(before, after, facts, out)
  const run = facts.run
  if (run?.completed === true && run.exitCode === 0) {
    if (facts.localCheck !== undefined) checkClean(facts.localCheck, facts, model, out)
    if (facts.command === 'restore' || facts.command === 'mirror') uploadsWhole(after, facts, out)
  }
  if (run?.completed === true && facts.command === 'repair' && run.report !== undefined) repairFlags(after, run.report as RepairReportShape, out)
  if (run?.completed === true && facts.command === 'ignore-history') ignoredHeld(before, after, facts, model, out)
  return out
}

/**
 * What a step tells the model before it is checked: placeholders ignore-history wrote (also
 * those an interrupted run committed), folders local repair rebuilt (all of them when the repair
 * was interrupted and gave no report).
 */
function learn(before: Snapshot, after: Snapshot, facts: StepFacts, model: Model): void {
  learnMovedAside(before, after, model)
  if (facts.command === 'ignore-history') {
    for (const f of after.backup.folders.values()) {
      for (const e of f.entries) if (sha(e.normalised) === placeholder(e.uid).normSha) model.ignore(familyOf(f.name, f.uidValidity, model), f.uidValidity, e.uid)
    }
    learnPlaceholdersWritten(before, facts, model)
  }
  if (facts.command === 'repair') {
    const report = facts.run?.completed === true ? (facts.run.report as RepairReportShape | undefined) : undefined
    if (report === undefined) for (const name of after.backup.folders.keys()) model.rebuilt.add(name)
    else for (const f of report.folders ?? []) if (f.action === 'rebuilt') model.rebuilt.add(f.name)
  }
}

interface IgnoreReportShape {
  folders?: Array<{folder: string; ignored: number; renamedTo?: string; error?: unknown}>
}

/**
 * ignore-history: every local folder before it is older than the placeholders it wrote, into the
 * folders that got some (or failed: up to a savepoint); a backup it moved aside counts under its
 * new name. An interrupted run recorded every folder it was to work on (docs/backup.md, B5).
 */
function learnPlaceholdersWritten(before: Snapshot, facts: StepFacts, model: Model): void {
  const report = facts.run?.completed === true ? (facts.run.report as IgnoreReportShape | undefined) : undefined
  const into = new Set<string>()
  const moved = new Map<string, string>()
  if (report?.folders === undefined) for (const f of selectedFolders(before.A, facts.selection)) into.add(f.name)
  else {
    for (const f of report.folders) {
      if (f.ignored > 0 || f.error !== undefined) into.add(f.folder)
      if (f.renamedTo !== undefined) moved.set(f.folder, f.renamedTo)
    }
  }
  if (into.size === 0) return
  for (const local of before.backup.folders.keys()) {
    const name = moved.get(local) ?? local
    const set = model.olderThanPlaceholders.get(name) ?? new Set<string>()
    for (const w of into) set.add(w)
    model.olderThanPlaceholders.set(name, set)
  }
}

/**
 * A backup moved aside during the step (a new local folder `<X>-<uv>` or `<X>-<uv>-<n>` holding
 * the UIDVALIDITY `<uv>` that X had before) keeps X's place among the backups older than
 * placeholders, whether or not the run went through: mailkeep writes that before it moves
 * (recordMovedAside, docs/backup.md B5). Found by the soak (Courier seed 2039277987: a mirror
 * interrupted after the move, S5 for the kept copy).
 */
function learnMovedAside(before: Snapshot, after: Snapshot, model: Model): void {
  for (const [name, f] of after.backup.folders) {
    if (before.backup.folders.has(name)) continue
    for (const [origin, was] of before.backup.folders) {
      const into = model.olderThanPlaceholders.get(origin)
      if (into === undefined || was.uidValidity !== f.uidValidity) continue
      const stem = `${origin}-${was.uidValidity}`
      if (name !== stem && !(name.startsWith(`${stem}-`) && /^\d+$/.test(name.slice(stem.length + 1)))) continue
      model.olderThanPlaceholders.set(name, new Set([...(model.olderThanPlaceholders.get(name) ?? []), ...into]))
    }
  }
}

/** A backup that went through: the folders it completed are up to date again, those it removed gone. */
function learnBackedUp(report: BackupReportShape, facts: StepFacts, model: Model): void {
  const account = report.accounts.find((a) => a.account === facts.userAccount)
  if (account === undefined || account.outcome === 'failed' || account.outcome === 'skipped') return
  for (const e of account.folders) {
    if (e.outcome === 'removed') model.olderThanPlaceholders.delete(e.folder)
    if (e.outcome !== 'ok' && e.outcome !== 'unchanged') continue
    const into = model.olderThanPlaceholders.get(e.folder)
    if (into === undefined) continue
    model.olderThanPlaceholders.delete(e.folder)
    if (e.renamedTo !== undefined) model.olderThanPlaceholders.set(e.renamedTo, into)
  }
}

/**
 * The backup of `local` is older than ignore-history placeholders that a folder the run backs up
 * held when it started (mirror mode keeps it, docs/backup.md B5).
 */
function olderThanPlaceholders(local: string, selected: ReadonlySet<string>, model: Model, backup: BackupReading): boolean {
  for (const w of model.olderThanPlaceholders.get(local) ?? []) {
    if (w === local || !selected.has(w)) continue
    if (backup.folders.get(w)?.entries.some((e) => sha(e.normalised) === placeholder(e.uid).normSha) === true) return true
  }
  return false
}

function atRest(backup: BackupReading, facts: StepFacts, out: Violation[]): void {
  for (const p of [...backup.problems, ...facts.recovery]) out.push({invariant: 'S11', message: p})
  for (const f of backup.folders.values()) for (const p of f.pending) out.push({invariant: 'S11', message: `'${p}' left behind after '${facts.label}'`})
  for (const p of backup.leftovers) out.push({invariant: 'S11', message: `temporary file '${p}' left behind`})
}

function notDoubled(backup: BackupReading, model: Model, out: Violation[]): void {
  for (const f of backup.folders.values()) {
    const seenUids = new Set<number>()
    const twice: number[] = []
    for (const e of f.entries) {
      if (seenUids.has(e.uid)) twice.push(e.uid)
      seenUids.add(e.uid)
    }
    if (twice.length > 0) out.push({invariant: 'S2', message: `local folder '${f.name}' holds UID(s) ${short(twice)} more than once`, duplicated: twice.length})
    const family = familyOf(f.name, f.uidValidity, model)
    const wrong: string[] = []
    for (const e of f.entries) {
      const held = e.exact !== undefined ? {exact: sha(e.exact)} : {norm: sha(e.normalised)}
      const matches = (s: {exactSha: string; normSha: string}): boolean => ('exact' in held ? held.exact === s.exactSha : held.norm === s.normSha)
      if (model.isIgnored(family, f.uidValidity, e.uid) && matches(placeholder(e.uid))) continue
      const seen = model.seen(family, f.uidValidity, e.uid)
      if (seen !== undefined) {
        if (!matches(seen)) wrong.push(`UID ${e.uid} is not the message the server had under it (${entryKey(e)} vs ${seen.key})`)
      } else if (!((model.rebuilt.has(f.name) || model.rebuilt.has(family)) && ((model.keysByFolder.get(family)?.has(entryKey(e)) ?? false) || isPlaceholderOf(e, family, model)))) {
        wrong.push(`UID ${e.uid} (${entryKey(e)}) was never on the server under UIDVALIDITY ${f.uidValidity}`)
      }
    }
    for (const w of wrong.slice(0, 5)) out.push({invariant: 'S2', message: `local folder '${f.name}': ${w}`})
  }
}

/** A placeholder ignore-history wrote in this folder (a repair may have given it another UID). */
function isPlaceholderOf(e: LocalFolder['entries'][number], family: string, model: Model): boolean {
  const m = /^From: fake@email\.com\nSubject: Message (\d+) not backed up\nSkipped (\d+)$/.exec(e.normalised.toString('utf8'))
  return m !== null && m[1] === m[2] && model.wasIgnored(family, Number(m[1]))
}

function keepAllKeeps(before: Snapshot, after: Snapshot, facts: StepFacts, out: Violation[]): void {
  if (facts.mirror) return
  const now = backupKeys(after.backup)
  const gone = [...backupKeys(before.backup).keys()].filter((k) => !now.has(k))
  if (gone.length > 0) out.push({invariant: 'S10', message: `keep-all mode: ${gone.length} message(s) left the backup during '${facts.label}': ${gone.slice(0, 5).join(', ')}`, lost: gone.length})
}

function endsInTime(facts: StepFacts, out: Violation[]): void {
  const run = facts.run!
  if (run.signal === 'deadline') {
    out.push({invariant: 'S12', message: `'${facts.label}' did not end within its deadline (killed after ${run.seconds.toFixed(0)} s)\n${run.output}`})
    return
  }
  if (run.completed && run.exitCode !== null && !DOCUMENTED_EXIT_CODES.has(run.exitCode)) {
    out.push({invariant: 'S12', message: `'${facts.label}' ended with exit ${run.exitCode}, not a documented status${run.exitCode === 70 ? ' (an internal error)' : ''}\n${run.output}`})
  }
}

function staysInside(facts: StepFacts, out: Violation[]): void {
  const run = facts.run!
  const inside = (p: string, roots: readonly string[]): boolean => roots.some((r) => p === r || p.startsWith(`${r}/`))
  // Making the directories on the way to the local_path (mkdir -p) is part of making it.
  const onTheWay = (p: string): boolean => facts.allowed.some((r) => r.startsWith(`${p}/`))
  const outside = run.written.filter((p) => (!inside(p, facts.allowed) && !onTheWay(p)) || inside(p, facts.forbidden))
  if (outside.length > 0) out.push({invariant: 'S8', message: `'${facts.label}' wrote outside ${facts.allowed.join(', ')}${facts.forbidden.length > 0 ? ` or inside ${facts.forbidden.join(', ')}` : ''}: ${outside.slice(0, 8).join(', ')}`})
  if (facts.command === 'restore' || facts.command === 'migrate') {
    const backupFiles = run.written.filter((p) => /\.(imap|mbox|mailkeep)$/.test(p))
    if (backupFiles.length > 0) out.push({invariant: 'S8', message: `'${facts.label}' (an upload, which only reads the backup) wrote ${backupFiles.slice(0, 8).join(', ')}`})
  }
}

function mirrorKeeps(before: Snapshot, after: Snapshot, facts: StepFacts, out: Violation[]): void {
  const onServer = keysOf(before.A, selectedFolders(before.A, facts.selection))
  const stillOnServer = keysOf(after.A, selectedFolders(after.A, facts.selection))
  const now = backupKeys(after.backup)
  const gone = [...backupKeys(before.backup).keys()].filter((k) => onServer.has(k) && stillOnServer.has(k) && !now.has(k))
  if (gone.length > 0) out.push({invariant: 'S4', message: `mirror mode removed ${gone.length} message(s) the server still has during '${facts.label}': ${gone.slice(0, 5).join(', ')}`, lost: gone.length})
}

/** `local` is kept aside from `origin`, a live folder of `live` whose backup holds an ignore-history placeholder. */
function asideOfPlaceholders(origin: string, local: string, live: ReadonlySet<string>, backup: BackupReading): boolean {
  if (origin === local || !live.has(origin)) return false
  return backup.folders.get(origin)?.entries.some((e) => sha(e.normalised) === placeholder(e.uid).normSha) ?? false
}

function completedBackup(before: Snapshot, after: Snapshot, facts: StepFacts, report: BackupReportShape, model: Model, out: Violation[]): void {
  const account = report.accounts.find((a) => a.account === facts.userAccount)
  if (account === undefined) {
    out.push({invariant: 'S6', message: `the report of '${facts.label}' has no entry for account ${facts.userAccount}`})
    return
  }
  if (account.outcome === 'failed' || account.outcome === 'skipped') {
    if (report.exitCode === 0) out.push({invariant: 'S6', message: `account ${facts.userAccount} ${account.outcome} with exit 0 in '${facts.label}'`})
    if (facts.run?.via !== 'kill' && facts.run?.via !== 'int') out.push({invariant: 'S13', message: `account ${facts.userAccount} ${account.outcome} in an unperturbed '${facts.label}': ${account.error?.message ?? '(no error)'}`})
    return
  }
  const flagsCurrent = facts.mirror || facts.refresh || facts.condstore
  const claimed = new Map<string, string[]>()
  // Local folders a mirror-mode run may leave: those of the folders selected at its start or end
  // (a folder created while it ran may be backed up or not), and those it kept aside.
  const kept = new Set<string>()
  for (const f of [...selectedFolders(before.A, facts.selection), ...selectedFolders(after.A, facts.selection)]) {
    for (const e of entriesFor(account, f)) {
      if (e.outcome === 'failed' || e.outcome === 'removed') continue
      kept.add(e.folder)
      if (e.renamedTo !== undefined) kept.add(e.renamedTo)
    }
  }
  for (const f of selectedFolders(after.A, facts.selection)) {
    const was = before.A.folders.get(f.wire)
    if (was === undefined || !was.selectable || was.uidValidity !== f.uidValidity) continue
    const entries = entriesFor(account, f)
    if (entries.length === 0) {
      out.push({invariant: 'S6', message: `selected server folder '${f.name}' is not in the report of '${facts.label}' (exit ${report.exitCode}): skipped silently`})
      continue
    }
    if (entries.length > 1) out.push({invariant: 'S7', message: `server folder '${f.name}' has ${entries.length} report entries (${entries.map((e) => e.folder).join(', ')})`})
    const entry = entries.find((e) => e.folder === f.name) ?? entries[0]!
    claimed.set(entry.folder, [...(claimed.get(entry.folder) ?? []), f.wire])
    if (entry.outcome === 'failed') {
      if (report.exitCode === 0) out.push({invariant: 'S6', message: `folder '${f.name}' failed but '${facts.label}' exited 0`})
      if (!model.unstorable.has(f.name)) out.push({invariant: 'S13', message: `folder '${f.name}' failed in '${facts.label}': ${entry.error?.message ?? '(no error)'}`})
      continue
    }
    if (entry.outcome !== 'ok' && entry.outcome !== 'unchanged') continue
    if (entry.renamedTo !== undefined) {
      if ((after.backup.folders.get(entry.renamedTo)?.entries.length ?? 0) === 0) {
        out.push({invariant: 'S15', message: `'${facts.label}' kept aside '${entry.renamedTo}' from '${f.name}', which holds no message`})
      }
    }
    const local = after.backup.folders.get(entry.folder)
    const present = f.messages.filter((m) => was.messages.some((w) => w.uid === m.uid))
    if (local === undefined) {
      if (present.length > 0) out.push({invariant: 'S1', message: `'${f.name}' reported ${entry.outcome} but has no local folder '${entry.folder}'`, lost: present.length})
      continue
    }
    if (local.uidValidity !== f.uidValidity) {
      out.push({invariant: 'S1', message: `local folder '${local.name}' is at UIDVALIDITY ${local.uidValidity}, the server's '${f.name}' at ${f.uidValidity}`, lost: present.length})
      continue
    }
    keptMessages(f, was, local, before.backup.folders.get(entry.folder), flagsCurrent, facts, model, out)
    if (facts.mirror) mirrorRemoves(f, was, local, facts, out)
  }
  for (const [local, wires] of claimed) if (wires.length > 1) out.push({invariant: 'S7', message: `server folders ${wires.map((w) => `'${w}'`).join(' and ')} are all backed up into local folder '${local}'`})
  if (report.exitCode === 0) {
    const notOk = account.folders.filter((e) => !['ok', 'unchanged', 'removed'].includes(e.outcome))
    if (notOk.length > 0) out.push({invariant: 'S6', message: `'${facts.label}' exited 0 with folder(s) ${notOk.map((e) => `'${e.folder}' ${e.outcome}`).join(', ')}`})
  }
  const named = new Set((account.unselected ?? []).map((u) => u.folder))
  for (const f of after.A.folders.values()) {
    if (!f.selectable || isSelected(f.name, facts.selection) || !before.A.folders.has(f.wire)) continue
    if (!named.has(f.name)) out.push({invariant: 'S6', message: `server folder '${f.name}' is not selected and the report of '${facts.label}' does not say so`})
  }
  // A run in which a selected folder failed keeps every local folder (docs/backup.md, step 2).
  const everyFolderBackedUp = !account.folders.some((e) => e.outcome === 'failed')
  if (facts.mirror && everyFolderBackedUp) {
    // Mirror mode keeps no local folder the server does not have selected, except one this run
    // kept aside (it goes at the next run, docs/backup.md), and one kept aside from a folder it
    // backs up whose backup holds ignore-history's placeholders, and one whose backup is older
    // than the placeholders a folder it backs up held at its start (docs/backup.md, B5).
    const selected = new Set([...selectedFolders(before.A, facts.selection), ...selectedFolders(after.A, facts.selection)].map((f) => f.name))
    for (const [local, folder] of after.backup.folders) {
      if (kept.has(local) || account.folders.some((e) => e.folder === local && e.outcome === 'failed')) continue
      if (asideOfPlaceholders(familyOf(local, folder.uidValidity, model), local, kept, after.backup)) continue
      if (olderThanPlaceholders(local, selected, model, before.backup)) continue
      const reported = account.folders.find((e) => e.folder === local)
      out.push({invariant: 'S5', message: `mirror mode: local folder '${local}' is not a selected server folder and stayed after '${facts.label}'${reported ? ` (reported ${reported.outcome})` : ''}`})
    }
  }
}

function keptMessages(
  f: ServerFolder,
  was: ServerFolder,
  local: LocalFolder,
  localBefore: LocalFolder | undefined,
  flagsCurrent: boolean,
  facts: StepFacts,
  model: Model,
  out: Violation[],
): void {
  const byUid = new Map(local.entries.map((e) => [e.uid, e]))
  const storedBefore = new Set(localBefore?.uidValidity === local.uidValidity ? localBefore.entries.map((e) => e.uid) : [])
  const missing: number[] = []
  const stale: string[] = []
  for (const m of f.messages) {
    const earlier = was.messages.find((w) => w.uid === m.uid)
    if (earlier === undefined) continue // appended while the run went on: may or may not be there
    const e = byUid.get(m.uid)
    if (e === undefined) {
      missing.push(m.uid)
      continue
    }
    const family = familyOf(local.name, local.uidValidity, model)
    if (model.isIgnored(family, local.uidValidity, m.uid)) continue
    // S2 compares the bytes; here the flags, when this run had to bring them up to date.
    const flagsChangedDuring = earlier.flags.join(' ') !== m.flags.join(' ')
    if (flagsChangedDuring || !(flagsCurrent || !storedBefore.has(m.uid))) continue
    if (e.flags.join(' ') !== storedForm(m.flags).join(' ')) stale.push(`UID ${m.uid} ${JSON.stringify(e.flags)} vs server ${JSON.stringify(m.flags)}`)
  }
  if (missing.length > 0) out.push({invariant: 'S1', message: `'${f.name}' lacks UID(s) ${short(missing)} after '${facts.label}'`, lost: missing.length})
  if (stale.length > 0) out.push({invariant: 'S1', message: `'${f.name}': flags not as of '${facts.label}': ${stale.slice(0, 4).join('; ')}`})
}

/**
 * The model's side of B5 for one folder: a stored message the server no longer has under its UID
 * may stay when the server still has the same message under a UID the backup holds only as a
 * placeholder (restore put it back, then ignore-history wrote a placeholder for that copy).
 */
function mirrorRemoves(f: ServerFolder, was: ServerFolder, local: LocalFolder, facts: StepFacts, out: Violation[]): void {
  const known = new Set([...f.messages.map((m) => m.uid), ...was.messages.map((m) => m.uid)])
  const byUid = new Map(local.entries.map((e) => [e.uid, e]))
  const heldAsPlaceholder = new Set(
    f.messages.filter((m) => {
      const e = byUid.get(m.uid)
      return e !== undefined && sha(e.normalised) === placeholder(m.uid).normSha
    }).map((m) => m.key),
  )
  const extra = local.entries.filter((e) => !known.has(e.uid) && !heldAsPlaceholder.has(entryKey(e))).map((e) => e.uid)
  if (extra.length > 0) out.push({invariant: 'S5', message: `mirror mode: '${f.name}' still holds UID(s) ${short(extra)} the server no longer has after '${facts.label}'`})
}

/**
 * An upload adds at most, for each folder of the backup, the copies it holds that the
 * destination folder of the same name lacked: the account may hold a message in two folders
 * when the backup does (a folder the user renamed since, restored under its old name), never
 * twice where one upload put it.
 */
function uploadsBound(before: Snapshot, after: Snapshot, facts: StepFacts, model: Model, out: Violation[]): void {
  const d0 = facts.destination === 'A' ? before.A : before.B
  const d1 = facts.destination === 'A' ? after.A : after.B
  const copies0 = copiesByKey(d0)
  const inFolder0 = new Map<string, Map<string, number>>()
  for (const f of d0.folders.values()) inFolder0.set(f.name, copiesByKey({folders: new Map([[f.wire, f]])}))
  const mayAdd = new Map<string, number>()
  for (const [family, counts] of backupCopies(after.backup, model)) {
    for (const [key, held] of counts) mayAdd.set(key, (mayAdd.get(key) ?? 0) + Math.max(0, held - (inFolder0.get(family)?.get(key) ?? 0)))
  }
  const during = new Map<string, number>()
  for (const a of facts.appendedDuring) if (a.account === facts.destination) during.set(a.key, (during.get(a.key) ?? 0) + 1)
  for (const [key, n] of copiesByKey(d1)) {
    const allowed = (copies0.get(key) ?? 0) + (mayAdd.get(key) ?? 0) + (during.get(key) ?? 0)
    if (n <= allowed) continue
    const where = [...d1.folders.values()].flatMap((f) => f.messages.filter((m) => m.key === key).map((m) => `'${f.name}' UID ${m.uid}`))
    out.push({
      invariant: 'S3',
      message: `after '${facts.label}' account ${facts.destination} holds ${n} copies of ${key} (before: ${copies0.get(key) ?? 0}; the backup's folders hold ${mayAdd.get(key) ?? 0} more than their namesakes there had): ${where.join(', ')}`,
      duplicated: n - allowed,
    })
  }
}

/** S13 for uploads: a completed, unperturbed upload leaves no folder failed or incomplete. */
function uploadFailures(facts: StepFacts, out: Violation[]): void {
  const run = facts.run
  if (run === undefined || !run.completed || run.report === undefined || run.via === 'kill' || run.via === 'int') return
  const report = run.report as TransferReportShape
  for (const f of report.folders ?? []) {
    if (f.outcome === 'ok') continue
    out.push({invariant: 'S13', message: `'${facts.label}': folder '${f.source}' → '${f.destination}' ${f.outcome}${f.error?.message === undefined ? '' : `: ${f.error.message}`}`})
  }
}

/** Whether a backup entry has the form of an ignore-history placeholder (any UID: a repair may have renumbered it). */
function placeholderForm(e: LocalFolder['entries'][number]): boolean {
  const m = /^From: fake@email\.com\nSubject: Message (\d+) not backed up\nSkipped (\d+)$/.exec(e.normalised.toString('utf8'))
  return m !== null && m[1] === m[2]
}

/** The keys of the backup's placeholders. */
function placeholderKeys(backup: BackupReading): Set<string> {
  const out = new Set<string>()
  for (const f of backup.folders.values()) for (const e of f.entries) if (placeholderForm(e)) out.add(entryKey(e))
  return out
}

/** S14: an upload never puts a placeholder on the destination (docs/commands/utils.md). */
function noPlaceholderUploaded(before: Snapshot, after: Snapshot, facts: StepFacts, out: Violation[]): void {
  const keys = placeholderKeys(after.backup)
  if (keys.size === 0) return
  const count = (view: AccountView): number => [...copiesByKey(view)].reduce((n, [k, c]) => n + (keys.has(k) ? c : 0), 0)
  const d0 = count(facts.destination === 'A' ? before.A : before.B)
  const d1 = count(facts.destination === 'A' ? after.A : after.B)
  if (d1 > d0) out.push({invariant: 'S14', message: `'${facts.label}' put ${d1 - d0} ignore-history placeholder(s) on account ${facts.destination}`, duplicated: d1 - d0})
}

function uploadsWhole(after: Snapshot, facts: StepFacts, out: Violation[]): void {
  const dest = keysOf(facts.destination === 'A' ? after.A : after.B)
  const placeholders = placeholderKeys(after.backup)
  const absent = [...backupKeys(after.backup).keys()].filter((k) => !dest.has(k) && !placeholders.has(k))
  if (absent.length > 0) out.push({invariant: 'S14', message: `'${facts.label}' exited 0 but ${absent.length} backed-up message(s) are not on account ${facts.destination}: ${absent.slice(0, 5).join(', ')}`, lost: absent.length})
}

function repairFlags(after: Snapshot, report: RepairReportShape, out: Violation[]): void {
  for (const folder of report.folders ?? []) {
    if (folder.action !== 'rebuilt') continue
    const local = after.backup.folders.get(folder.name)
    const server = [...after.A.folders.values()].find((f) => f.name === folder.name && f.selectable)
    if (local === undefined || server === undefined || server.uidValidity !== local.uidValidity) continue
    const byUid = new Map(server.messages.map((m) => [m.uid, m]))
    const wrong = local.entries.filter((e) => {
      const m = byUid.get(e.uid)
      return m !== undefined && m.key === entryKey(e) && e.flags.join(' ') !== m.flags.join(' ')
    })
    if (wrong.length > 0) out.push({invariant: 'S16', message: `local repair rebuilt '${folder.name}': UID(s) ${short(wrong.map((e) => e.uid))} matched to the server but with flags ${JSON.stringify(wrong[0]!.flags)} instead of the server's`})
  }
}

/**
 * S9: nothing in `local check` after a run that exited 0, but for one finding by design: the
 * `not-stored` warning on a folder the test made unstorable (docs/commands/local.md). The last
 * backup recorded that it could not store that folder, and every later check says so until a
 * backup stores it or no longer selects it, whatever ran in between (a repair, an upload). The
 * backup that failed the folder exited non-zero, so S9 first meets the warning at the next run
 * that exits 0. Any other finding, and this one on any other folder, is a violation.
 */
function checkClean(findings: readonly CheckFinding[], facts: StepFacts, model: Model, out: Violation[]): void {
  const left = findings.filter((f) => !(f.code === 'not-stored' && f.severity === 'warning' && model.unstorable.has(f.folder)))
  if (left.length > 0) out.push({invariant: 'S9', message: `local check after '${facts.label}' (exit 0): ${left.slice(0, 5).map((f) => `'${f.folder}': ${f.severity} ${f.code}: ${f.message}`).join('; ')}`})
}

/** After ignore-history: every message of a selected folder is in the backup, itself or its placeholder (recorded in the model). */
function ignoredHeld(before: Snapshot, after: Snapshot, facts: StepFacts, model: Model, out: Violation[]): void {
  for (const f of selectedFolders(after.A, facts.selection)) {
    const was = before.A.folders.get(f.wire)
    if (was === undefined || was.uidValidity !== f.uidValidity) continue
    const local = after.backup.folders.get(f.name)
    if (model.unstorable.has(f.name)) continue
    if (local === undefined || local.uidValidity !== f.uidValidity) {
      if (f.messages.length > 0) out.push({invariant: 'S1', message: `ignore-history: server folder '${f.name}' has no local folder at its UIDVALIDITY`, lost: f.messages.length})
      continue
    }
    const uids = new Map(local.entries.map((e) => [e.uid, e]))
    const missing: number[] = []
    for (const m of f.messages) {
      if (!was.messages.some((w) => w.uid === m.uid)) continue
      const e = uids.get(m.uid)
      if (e === undefined) missing.push(m.uid)
    }
    if (missing.length > 0) out.push({invariant: 'S1', message: `ignore-history: '${f.name}' has neither message nor placeholder for UID(s) ${short(missing)}`, lost: missing.length})
  }
}
