/**
 * Runs sequences: the steps of a plan one by one against a `World`, a fresh snapshot of both
 * accounts and of the backup after each, every invariant checked (invariants.ts), and on the
 * first step that violates one, the sequence stops; `shrink` then looks for a shorter list of
 * steps that still fails. Nothing here imports vitest: the CI files (`*.test.ts`) and the soak
 * (bench/soak/registry.ts) drive the same code.
 */
import {deriveSeed, Rng} from '../reliability/lib/rng.js'
import type {ServerKind} from '../support/servers.js'
import {checkStep, type StepFacts, type Violation} from './invariants.js'
import {Model} from './model.js'
import {describeStep, generatePlan, operation, type Effect, type Plan, type Step} from './operations.js'
import type {Snapshot, World} from './world.js'

export interface StepRecord {
  index: number
  text: string
  seconds: number
  notes: string[]
  violations: Violation[]
  output?: string
}

export interface SequenceResult {
  seed: number
  kind: ServerKind
  plan: Plan
  /** The step indices that ran (all of the plan's, or a replay's subset). */
  indices: number[]
  records: StepRecord[]
  /** Index (into `records`) of the step that failed. */
  failedAt?: number
  seconds: number
  dir: string
}

export const violationsOf = (r: SequenceResult): Violation[] => (r.failedAt === undefined ? [] : r.records[r.failedAt]!.violations)

/** Runs the plan's steps (or those of `only`), stopping at the first that violates an invariant. */
export async function runSequence(world: World, kind: ServerKind, plan: Plan, only?: readonly number[], keepDir = false): Promise<SequenceResult> {
  const started = Date.now()
  const indices = only === undefined ? plan.steps.map((_, i) => i) : [...only].filter((i) => i < plan.steps.length).sort((a, b) => a - b)
  const result: SequenceResult = {seed: plan.seed, kind, plan, indices, records: [], seconds: 0, dir: ''}
  await world.begin(plan.strategy, plan.pair)
  result.dir = world.dir
  world.mirror = plan.mirror
  await world.writeConfig()
  const model = new Model()
  const tag = plan.seed.toString(36)
  let before = await world.snapshot()
  model.observe(before.A)
  try {
    for (const index of indices) {
      const step = plan.steps[index]!
      let n = 0
      // Identities depend on the step, not on what ran before: a shrunk replay appends the same messages.
      const record = await runStep(world, kind, model, step, index, plan.seed, before, () => `q${tag}s${index}-${++n}`)
      result.records.push(record.record)
      before = record.after
      if (record.record.violations.length > 0) {
        result.failedAt = result.records.length - 1
        break
      }
    }
  } catch (error) {
    // A step that threw (the harness, or an engine error the CLI would have called internal) fails the sequence.
    const last = result.records.length
    const index = indices[last] ?? -1
    result.records.push({index, text: index >= 0 ? describeStep(plan.steps[index]!) : '(setup)', seconds: 0, notes: [], violations: [{invariant: 'S12', message: `threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`}]})
    result.failedAt = last
  } finally {
    result.seconds = (Date.now() - started) / 1000
    await world.end(keepDir || result.failedAt !== undefined)
  }
  return result
}

async function runStep(
  world: World,
  kind: ServerKind,
  model: Model,
  step: Step,
  index: number,
  seed: number,
  before: Snapshot,
  newId: () => string,
): Promise<{record: StepRecord; after: Snapshot}> {
  const t0 = Date.now()
  const op = operation(step.op)
  const mirror = world.mirror
  const selection = world.selection
  const effect: Effect = await op.run({world, model, kind, server: world.server, before, rng: new Rng(deriveSeed(seed, `step:${index}`)), newId}, step.args)
  const run = effect.run
  const recovery = run !== undefined && !run.completed ? await world.recover() : []
  // Operations that change neither server (config), or only account A's.
  const configOnly = step.op === 'mirror-mode' || step.op === 'select'
  const touchesB = run !== undefined || effect.appendedDuring.some((a) => a.account === 'B') || step.op === 'b-append' || (step.op === 'expunge' && step.args.account === 'B') || step.op === 'nested-paths'
  const after = await world.snapshot(before, {A: !configOnly, B: !configOnly && touchesB})
  model.observe(after.A)
  const localCheck = run?.completed === true && run.exitCode === 0 ? await world.localCheck() : undefined
  const facts: StepFacts = {
    label: describeStep(step),
    mirror: effect.mirror ?? mirror,
    selection,
    refresh: effect.refresh === true,
    condstore: world.server.facts.capabilities.has('CONDSTORE'),
    appendedDuring: effect.appendedDuring,
    recovery,
    allowed: effect.allowed ?? [world.rel(world.rootA)],
    forbidden: effect.forbidden ?? [],
    userAccount: world.A.user,
    ...(effect.command === undefined ? {} : {command: effect.command}),
    ...(run === undefined ? {} : {run}),
    ...(effect.destination === undefined ? {} : {destination: effect.destination}),
    ...(localCheck === undefined ? {} : {localCheck}),
  }
  const violations = [...checkStep(before, after, facts, model), ...(effect.extra ?? [])]
  const record: StepRecord = {index, text: describeStep(step), seconds: (Date.now() - t0) / 1000, notes: effect.notes, violations}
  if (violations.length > 0 && run !== undefined) record.output = run.output
  return {record, after}
}

/** Sequence `i` of a suite on one server: its seed. */
export function sequenceSeed(suiteSeed: number, kind: ServerKind, i: number): number {
  // The low byte picks the featured operation, bit 8 the pair of users (operations.ts,
  // generatePlan): consecutive here, so that each operation comes round and the pairs alternate.
  return ((deriveSeed(suiteSeed, `sequence:${kind}:${i}`) & ~0x1ff) | ((i & 1) << 8) | (i & 0xff)) >>> 0
}

/**
 * Greedy shrinking: leaves out one step at a time (the failing step kept), keeping each removal
 * after which the sequence still violates one of the same invariants. At most `attempts` reruns.
 * The timing of real processes is not replayed, so a kill may land elsewhere and a removal that
 * would still fail can be missed: the result is a shorter failing list, not always the shortest.
 */
export async function shrink(world: World, failed: SequenceResult, attempts: number): Promise<SequenceResult> {
  const wanted = new Set(violationsOf(failed).map((v) => v.invariant))
  let best = failed
  let kept = failed.records.map((r) => r.index)
  let tries = 0
  for (let pos = kept.length - 2; pos >= 0 && tries < attempts; pos--) {
    const candidate = kept.filter((_, i) => i !== pos)
    tries++
    const again = await runSequence(world, failed.kind, failed.plan, candidate)
    if (again.failedAt !== undefined && violationsOf(again).some((v) => wanted.has(v.invariant))) {
      await world.end(false).catch(() => undefined)
      best = again
      kept = again.records.map((r) => r.index)
      pos = Math.min(pos, kept.length - 1)
    }
  }
  return best
}

/** The plan of a sequence seed on a server. */
export function planFor(seed: number, kind: ServerKind): Plan {
  return generatePlan(seed, kind)
}

/** A failure, as printed: the seed, the replay command, the steps, what was violated. */
export function describeFailure(result: SequenceResult, shrunk?: SequenceResult): string {
  const lines: string[] = []
  const v = violationsOf(result)
  lines.push(`sequence seed ${result.seed} on ${result.kind} failed at step ${result.records[result.failedAt!]!.index} (${result.records[result.failedAt!]!.text}):`)
  for (const x of v) lines.push(`  [${x.invariant}] ${x.message}`)
  // The plan depends on the seed and on the exclusions in force (operations kept apart).
  const known = process.env.MAILKEEP_SEQUENCE_KNOWN_ISSUES
  const env = `MAILKEEP_TEST_SERVERS=${result.kind}${known === undefined ? '' : ` MAILKEEP_SEQUENCE_KNOWN_ISSUES=${known}`}`
  const plan = process.env.MAILKEEP_SEQUENCE_PLAN
  lines.push(`  replay: ${env} ${plan === undefined ? `MAILKEEP_SEQUENCE_SEED=${result.seed}` : `MAILKEEP_SEQUENCE_PLAN='${plan}'`} npx vitest run test/sequence/${result.kind}.test.ts`)
  lines.push(`  strategy ${result.plan.strategy}, mirror_mode ${result.plan.mirror} at the start; steps:`)
  for (const r of result.records) lines.push(`    ${String(r.index).padStart(2)} ${r.text}${r.notes.length > 0 ? `   [${r.notes.join('; ')}]` : ''}`)
  const output = result.records[result.failedAt!]!.output
  if (output !== undefined && output.trim() !== '') lines.push(`  output of the failing run:\n${output.split('\n').map((l) => `    ${l}`).join('\n')}`)
  if (shrunk !== undefined && shrunk.records.length < result.records.length) {
    const indices = shrunk.records.map((r) => r.index)
    lines.push(`  shrunk to ${indices.length} steps (MAILKEEP_SEQUENCE_STEPS=${indices.join(',')}):`)
    for (const r of shrunk.records) lines.push(`    ${String(r.index).padStart(2)} ${r.text}`)
    for (const x of violationsOf(shrunk)) lines.push(`    [${x.invariant}] ${x.message.split('\n')[0]}`)
  }
  lines.push(`  the sandbox of the run is kept: ${result.dir}`)
  return lines.join('\n')
}
