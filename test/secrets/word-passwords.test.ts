/**
 * Passwords that are ordinary words (`pass`, `password`, `secret`, `mail`): nothing leaks, and
 * mailkeep's own text stays intact ("check the user name and password" used to become "check the
 * user name and [REDACTED]word", and a 4-letter password was given away by the holes it left).
 *
 * Each scenario runs twice through the real CLI, once with the word as the password and once
 * with a distinctive one (`Dz9#…`), everything else equal. A leak of the word would be a leak of
 * the distinctive password at the same place, which no output may contain; and the two outputs,
 * with the volatile parts (times, durations, the user name and HOME) normalised, must be the same
 * text: any word removed or garbled in the first run shows up as a difference.
 */
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {seedFolder} from '../support/mail-seed.js'
import {accountEntry, defaultConfigPath, mailkeep, makeHome, writeConfig} from '../cli/helpers.js'
import type {CliResult} from '../support/cli.js'

vi.setConfig({testTimeout: 180_000})

const WORDS = ['pass', 'password', 'secret', 'mail'] as const
const DISTINCT = 'Dz9#twin-pw-41c'

let dovecot: DovecotInstance
/** One user per word, whose password is that word, and the twin with the distinctive one. */
const wordUser = new Map<string, TestUser>()
let twin: TestUser
/** A user whose password is none of the above: logins with the word fail. */
let other: TestUser

beforeAll(async () => {
  const users: TestUser[] = WORDS.map((w, i) => ({user: `word${i}@example.test`, password: w}))
  twin = {user: 'twin0@example.test', password: DISTINCT}
  other = {user: 'other@example.test', password: 'Other-Pw-62e0aa'}
  dovecot = await startDovecot({users: [...users, twin, other]})
  for (const user of [...users, twin]) {
    await seedFolder(dovecot, user, 'INBOX', 3)
    wordUser.set(user.password, user)
  }
}, 120_000)

afterAll(async () => {
  await dovecot?.stop()
})

/** One run of `args` for `user` with `password` in the config, in a fresh HOME. */
async function run(user: TestUser, password: string, args: readonly string[]): Promise<{result: CliResult; home: string}> {
  const home = await makeHome()
  await writeConfig(defaultConfigPath(home), {version: '2.2', accounts: [accountEntry(dovecot, user, join(home, 'backup'), {password})]})
  return {result: await mailkeep(home, [...args.map((a) => (a === 'USER' ? user.user : a))]), home}
}

/** The output with what differs between two equal runs replaced by fixed words. */
function normalise(text: string, user: TestUser, home: string): string {
  return text
    .replaceAll(home, 'HOME')
    .replaceAll(user.user, 'USER')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME')
    .replace(/\d+(\.\d+)? (s|ms)\b/g, 'N $2')
    .replace(/[\d.,]+ (msg\/s|MiB\/s|KiB\/s|B\/s)/g, 'N $1')
    .replace(/"(seconds|ms)":[\d.]+/g, '"$1":N')
    .replace(/pid \d+/g, 'pid N')
}

async function twinRuns(word: string, users: {word: TestUser; twin: TestUser}, args: readonly string[]): Promise<void> {
  const a = await run(users.word, word, args)
  const b = await run(users.twin, DISTINCT, args)
  const outA = `${a.result.stdout}\n--- stderr ---\n${a.result.stderr}`
  const outB = `${b.result.stdout}\n--- stderr ---\n${b.result.stderr}`
  expect(outB, 'the distinctive password leaked (so the word would have too)').not.toContain(DISTINCT)
  expect(outA).not.toContain('[REDACTED]')
  expect(outB).not.toContain('[REDACTED]')
  expect(a.result.code).toBe(b.result.code)
  const linesA = normalise(outA, users.word, a.home).split('\n')
  const linesB = normalise(outB, users.twin, b.home).split('\n')
  const differ = linesA.flatMap((line, i) => (line === linesB[i] ? [] : [`- ${line}`, `+ ${linesB[i] ?? ''}`]))
  expect(differ, `lines that differ between the runs (word first)`).toEqual([])
  expect(linesA.length).toBe(linesB.length)
}

describe.each(WORDS)('the password %j', (word) => {
  it('a backup with --verbose logs and a summary: no leak, our text intact', async () => {
    await twinRuns(word, {word: wordUser.get(word)!, twin}, ['backup', '--verbose'])
  })

  it('a refused login: the error and its hint ("check the user name and password") intact', async () => {
    const a = await run(other, word, ['backup'])
    expect(a.result.code).toBe(111)
    expect(a.result.stdout + a.result.stderr).toContain('password')
    await twinRuns(word, {word: other, twin: other}, ['backup'])
  })

  it('remote folders and local list, as text and --json', async () => {
    await twinRuns(word, {word: wordUser.get(word)!, twin}, ['remote', 'folders', 'USER'])
    await twinRuns(word, {word: wordUser.get(word)!, twin}, ['remote', 'folders', 'USER', '--json', '--verbose', '--log-format', 'json'])
  })
})
