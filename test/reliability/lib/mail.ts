/**
 * Random mail for the scenarios: folders of random sizes holding small, medium and big messages
 * (the corpus's awkward ones included: `From ` lines, bare LF, no final newline), with random
 * flags and dates. Every message carries a unique `X-Reliability-Id` header, so that "exactly
 * once on the destination" can be checked by content.
 */
import {bigMessage, loadCorpus, type CorpusMessage} from '../../fixtures/corpus.js'
import {appendMessages, ensureFolder, seedMessage, type ImapServer, type SeedMessage} from '../../support/mail-seed.js'
import type {TestUser} from '../../support/dovecot.js'
import type {Rng} from './rng.js'

const FLAGS = ['\\Seen', '\\Flagged', '\\Answered', '\\Draft', '$Forwarded', '$Label1', 'Junk', 'NonJunk']

/** Sizes of a message mix; big messages are rare so that CI stays fast. */
export interface MailMix {
  /** Probability of a medium message (2–200 KB). */
  medium: number
  /** Probability of a big one (between bigMin and bigMax bytes). */
  big: number
  bigMin: number
  bigMax: number
  /** Probability of a corpus message. */
  corpus: number
}

export const DEFAULT_MIX: MailMix = {medium: 0.08, big: 0.015, bigMin: 300_000, bigMax: 2_500_000, corpus: 0.1}

let corpus: CorpusMessage[] | undefined

/** One random message; `id` makes it unique. */
export function randomMessage(rng: Rng, id: string, mix: MailMix = DEFAULT_MIX): SeedMessage {
  const date = new Date(Date.UTC(2020, 0, 1) + rng.int(0, 4 * 365 * 86_400) * 1000)
  const flags = FLAGS.filter(() => rng.chance(0.25))
  const marker = `X-Reliability-Id: ${id}\r\n`
  const roll = rng.next()
  let raw: Buffer
  if (roll < mix.big) {
    raw = withHeader(bigMessage(rng.int(mix.bigMin, mix.bigMax), {seed: id}), marker)
  } else if (roll < mix.big + mix.medium) {
    const base = seedMessage(rng.int(0, 100_000)).raw
    const line = `${'m'.repeat(76)}\r\n`
    raw = Buffer.concat([withHeader(base, marker), Buffer.from(line.repeat(Math.ceil(rng.int(2_000, 200_000) / line.length)))])
  } else if (roll < mix.big + mix.medium + mix.corpus) {
    corpus ??= loadCorpus()
    raw = withHeader(rng.pick(corpus).raw, marker)
  } else {
    raw = withHeader(seedMessage(rng.int(0, 100_000)).raw, marker)
  }
  return {raw, flags, internalDate: date}
}

/** Adds a header line at the top, after a leading `From ` envelope line if there is one. */
function withHeader(raw: Buffer, header: string): Buffer {
  if (raw.subarray(0, 5).toString('latin1') === 'From ') {
    const lf = raw.indexOf(0x0a)
    if (lf >= 0) return Buffer.concat([raw.subarray(0, lf + 1), Buffer.from(header), raw.subarray(lf + 1)])
  }
  return Buffer.concat([Buffer.from(header), raw])
}

export interface PoolFolder {
  name: string
  count: number
  bytes: number
}

/**
 * Creates `names` on the server with a random number of messages each (between min and max;
 * an empty folder now and then) and returns what was put there.
 */
export async function seedPool(
  server: ImapServer,
  user: TestUser,
  rng: Rng,
  names: readonly string[],
  options: {min: number; max: number; mix?: MailMix; tag?: string},
): Promise<PoolFolder[]> {
  const out: PoolFolder[] = []
  for (const name of names) {
    const count = rng.chance(0.08) ? 0 : Math.round(rng.logUniform(Math.max(1, options.min), options.max))
    const folder = await addMail(server, user, rng, name, count, options.mix, options.tag ?? 'pool')
    out.push(folder)
  }
  return out
}

/** Appends `count` random messages to a folder (created when missing). */
export async function addMail(server: ImapServer, user: TestUser, rng: Rng, folder: string, count: number, mix: MailMix = DEFAULT_MIX, tag = 'mail'): Promise<PoolFolder> {
  await ensureFolder(server, user, folder)
  const messages: SeedMessage[] = []
  for (let i = 0; i < count; i++) messages.push(randomMessage(rng, `${tag}-${folder}-${rng.seed}-${i}-${rng.int(0, 1e9)}`, mix))
  if (messages.length > 0) await appendMessages(server, user, folder, messages, {maxBatchMessages: 500, maxBatchBytes: 8 * 1024 * 1024})
  return {name: folder, count, bytes: messages.reduce((n, m) => n + m.raw.length, 0)}
}
