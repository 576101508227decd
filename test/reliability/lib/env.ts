/**
 * What every scenario gets: the ledger (results table), the transcript (for the secrets scan),
 * the CLI runner, the counts, a seeded generator, and private HOME directories with a config
 * file. Nothing here imports vitest, so bench/soak.ts runs the same scenarios outside it.
 */
import {chmod, mkdir, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {makeTempDir, removeTempDir} from '../../support/temp-dir.js'
import {Cli} from './cli.js'
import {Ledger} from './ledger.js'
import {Rng} from './rng.js'
import type {Counts} from './scale.js'
import {Transcript, type Secret} from './transcript.js'

/** At most this many directories of failed runs are kept for a post-mortem (their paths are printed). */
const KEEP_FAILED = 5

export class ScenarioEnv {
  readonly ledger: Ledger
  readonly transcript = new Transcript()
  readonly cli: Cli
  readonly rng: Rng
  /** Secrets a scenario uses besides the test users' (checked by the secrets scan too). */
  readonly secrets: Secret[] = []
  /**
   * Set by the soak on its first SIGTERM (bench/soak.ts): a scenario made of many independent runs
   * (the sequence test) stops after the current one, so that a soak stopped before its count is
   * reached still prints the table of what ran.
   */
  stopRequested = false
  private keptFailed = 0

  constructor(
    readonly seed: number,
    readonly counts: Counts,
    /** Progress lines (bench/soak.ts prints them; the CI suite stays quiet). */
    readonly progress: (line: string) => void = () => undefined,
  ) {
    this.ledger = new Ledger(seed)
    this.cli = new Cli(this.transcript)
    this.rng = new Rng(seed)
  }

  /**
   * A fresh directory for one run; removed by `release(dir, passed)`: kept (and printed) when the
   * run failed, for a post-mortem.
   */
  async tempDir(prefix = 'mailkeep-rel-'): Promise<string> {
    return makeTempDir(prefix)
  }

  async release(dir: string, passed: boolean): Promise<void> {
    if (!passed && this.keptFailed < KEEP_FAILED) {
      this.keptFailed++
      this.progress(`kept the directory of a failed run: ${dir}`)
      console.error(`mailkeep reliability: kept the directory of a failed run: ${dir}`)
      return
    }
    await removeTempDir(dir).catch(() => undefined)
  }
}

/** One account entry of a config (plain IMAP on loopback). */
export {accountEntry as account} from '../../support/account.js'

export function configPath(home: string): string {
  return join(home, '.mailkeep', 'config.json')
}

/** Writes HOME/.mailkeep/config.json (mode 0600 unless told otherwise). */
export async function writeConfig(home: string, top: Record<string, unknown>, mode = 0o600): Promise<string> {
  const path = configPath(home)
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  await writeFile(path, `${JSON.stringify({version: '2.2', ...top}, null, 2)}\n`, {mode})
  await chmod(path, mode)
  return path
}
