/**
 * The reliability soak: the scenarios of test/reliability/ at full counts (500 kills each of
 * backup, restore and copy, 100 signals, 100 network faults, 40 full disks, 5 rounds of every
 * hostile server and hostile local case, 10 rounds of the concurrency cases), then one table of
 * scenario, runs, passed, lost and duplicated (lost and duplicated must be 0), with the seed, the
 * date and the machine. Exit 0 when every run passed and every scenario reached its minimums (the
 * notes marked `(≥ n)`: kills and signals that landed while the CLI worked, each network fault
 * kind fired, every disk-full run filled the disk), 1 otherwise. Needs `npm run build`.
 *
 *   npx vite-node bench/soak.ts                       every scenario, full counts
 *   npx vite-node bench/soak.ts --only kill-backup,network
 *   npx vite-node bench/soak.ts --scale 0.1           a tenth of the full counts
 *   npx vite-node bench/soak.ts --seed 1234           replay the decisions of an earlier run
 *   npx vite-node bench/soak.ts --table rows.jsonl    print the table of rows saved earlier
 *   npx vite-node bench/soak.ts --only sequence-cyrus --seed 1234 --claims /tmp/claims
 *                                                     one of several workers sharing the sequences
 *                                                     of one seed (start more the same way)
 *   kill -TERM <pid>                                  stop early (the sequence test: after the
 *                                                     current sequence) and print the table
 *
 * Several soaks can run side by side (`--only` different scenarios) with
 * MAILKEEP_RELIABILITY_REPORT=<file>: each appends its rows there, and `--table <file>` prints
 * them as one table (the rows of one scenario from several workers added up).
 */
import {readFileSync} from 'node:fs'
import {cpus, hostname, release, totalmem, type as osType} from 'node:os'
import {option} from './lib/bench-utils.js'
import {ScenarioEnv} from '../test/reliability/lib/env.js'
import {mergeRows, parseRows, renderTable, rowFailed, unmet} from '../test/reliability/lib/ledger.js'
import {suiteSeed} from '../test/reliability/lib/rng.js'
import {SOAK_COUNTS, scaled} from '../test/reliability/lib/scale.js'
import {requireBuild} from '../test/reliability/lib/build.js'
import {SOAK_SCENARIOS} from './soak/registry.js'

export function machine(): string {
  const cpu = cpus()
  return `${osType()} ${release()}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, host ${hostname()}`
}

async function main(): Promise<number> {
  const tableFile = option('table', '')
  if (tableFile !== '') {
    const rows = mergeRows(parseRows(readFileSync(tableFile, 'utf8')))
    console.log(renderTable(rows))
    for (const line of rows.flatMap(unmet)) console.log(`minimum not reached: ${line}`)
    return rows.some(rowFailed) ? 1 : 0
  }

  requireBuild()
  const seedOption = option('seed', '')
  if (seedOption !== '') process.env.MAILKEEP_RELIABILITY_SEED = seedOption
  // The sequence test's work sharing (test/sequence/scenario.ts): most of a sequence's time is
  // waiting on servers and child processes, so a few workers per server fill the CPU.
  const claims = option('claims', '')
  if (claims !== '') process.env.MAILKEEP_SEQUENCE_CLAIMS = claims
  const seed = suiteSeed()
  const counts = scaled(SOAK_COUNTS, Number(option('scale', '1')))
  const only = option('only', '')
  const keys = only === '' ? SOAK_SCENARIOS.map((s) => s.key) : only.split(',')
  const unknown = keys.filter((k) => !SOAK_SCENARIOS.some((s) => s.key === k))
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SOAK_SCENARIOS.map((s) => s.key).join(', ')}`)

  const started = new Date()
  const env = new ScenarioEnv(seed, counts, (line) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`))
  console.error(`mailkeep reliability soak: seed ${seed}, scenarios ${keys.join(', ')}\ncounts ${JSON.stringify(counts)}\n${machine()}`)
  // The first SIGTERM stops the soak at the next point where a scenario can stop (the sequence
  // test: between sequences) and prints the table of what ran; a second one ends it at once.
  process.on('SIGTERM', () => {
    if (env.stopRequested) process.exit(143)
    env.stopRequested = true
    env.progress('SIGTERM: stopping after the current run (a second SIGTERM ends the soak at once)')
  })
  for (const key of keys) {
    if (env.stopRequested) break
    const scenario = SOAK_SCENARIOS.find((s) => s.key === key)!
    const t0 = Date.now()
    env.progress(`${key}: start`)
    try {
      await scenario.run(env)
    } catch (error) {
      // A scenario that could not even set up is a failure of its own, not a crash of the soak.
      await env.ledger.run(`${key} (setup)`, 'setup', seed, async () => {
        throw error
      })
    }
    env.progress(`${key}: done in ${((Date.now() - t0) / 60_000).toFixed(1)} min`)
    env.ledger.export()
  }
  const hits = env.transcript.scan(env.secrets)
  const rows = [...env.ledger.rows.values()]
  const minutes = (Date.now() - started.getTime()) / 60_000
  console.log(`\nmailkeep reliability soak, ${started.toISOString().slice(0, 10)}, ${minutes.toFixed(0)} min, seed ${seed} (replay: --seed ${seed})${env.stopRequested ? ', stopped early by SIGTERM: the runs column says how many ran' : ''}`)
  console.log(`machine: ${machine()}\n`)
  console.log(renderTable(rows))
  console.log(`\nsecrets: ${hits.length === 0 ? 'no hit' : `${hits.length} hit(s)`} in ${(env.transcript.size / 1e6).toFixed(1)} MB of output`)
  for (const hit of hits) console.log(`  ${hit.secret} in ${hit.source}`)
  if (env.ledger.failures.length > 0) {
    console.log(`\n${env.ledger.failures.length} failed run(s):`)
    for (const f of env.ledger.failures) console.log(`- ${f.scenario} / ${f.label} (run seed ${f.seed}):\n    ${f.problems.join('\n    ').slice(0, 4000)}`)
  }
  const short = rows.flatMap(unmet)
  if (short.length > 0) console.log(`\n${short.length} minimum(s) not reached (a scenario that did not do what it is about has not passed):\n- ${short.join('\n- ')}`)
  return rows.some(rowFailed) || hits.length > 0 ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error)
    process.exit(2)
  },
)
