/**
 * Small messages for the sequence test, each with a unique `X-Seq-Id` header (its identity:
 * server-view.ts `messageKey`), in the shapes that stress the mbox format (docs/mbox-format.md):
 * body lines `From `, `>From `, `>>From:`; LF-only and mixed line endings; no final newline; an
 * empty body; 8-bit header text. Kept small (a few hundred bytes, now and then some tens of KB),
 * so that a sequence costs little; the reliability suite covers big messages.
 */
import type {SeedMessage} from '../support/mail-seed.js'
import type {ServerFacts} from '../support/servers.js'
import type {Rng} from '../reliability/lib/rng.js'

const FLAGS = ['\\Seen', '\\Flagged', '\\Answered', '\\Draft', '$Label1', 'Work', '$Forwarded']

export function randomFlags(rng: Rng): string[] {
  return FLAGS.filter(() => rng.chance(0.3))
}

export function seqMessage(rng: Rng, id: string, facts: ServerFacts): SeedMessage {
  const date = new Date(Date.UTC(2021, 0, 1) + rng.int(0, 3 * 365 * 86_400) * 1000)
  const head = [
    `X-Seq-Id: ${id}`,
    `From: ${rng.pick(['Ann <ann@example.test>', '"Doe, Jane" <jane@example.test>', 'bob@example.test'])}`,
    `To: someone@example.test`,
    `Subject: ${rng.pick(['hello', 'report', 'Re: plans', 'R\u00e9sum\u00e9'])} ${id}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${id}@seq.example.test>`,
  ]
  const bodies = [
    ['Just a line.'],
    ['From the start of a line', '>From quoted once', '>>From: twice, no space', 'Fromage'],
    ['first', '', 'second paragraph', '-- ', 'sig'],
    [],
    ['x'.repeat(rng.int(10, 76)), 'From here', 'end'],
  ]
  let body = rng.pick(bodies)
  if (rng.chance(0.05)) body = Array.from({length: rng.int(200, 800)}, (_, i) => `line ${i} ${'y'.repeat(60)}`)
  const eol = rng.chance(0.75) ? '\r\n' : rng.pick(['\n', 'mixed'])
  const lines = [...head, '', ...body]
  let text = ''
  for (const [i, line] of lines.entries()) text += line + (eol === 'mixed' ? (i % 3 === 0 ? '\n' : '\r\n') : eol)
  if (rng.chance(0.15)) text = text.replace(/\r?\n$/, '')
  let raw = Buffer.from(text, 'utf8')
  // A server that refuses a message (Cyrus: bare LF) gets its CRLF form: the test is about
  // mailkeep, not about what a server accepts.
  if (facts.stored(raw) === undefined) raw = Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8')
  return {raw, flags: randomFlags(rng), internalDate: date}
}
