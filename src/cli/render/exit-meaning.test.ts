import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {ExitCode} from '../../shared/exit-codes.js'
import {EXIT_MEANINGS, exitLine} from './exit-meaning.js'

describe('exit meanings', () => {
  it('agree word for word with docs/exit-codes.md', () => {
    const doc = readFileSync(new URL('../../../docs/exit-codes.md', import.meta.url), 'utf8')
    const rows = doc
      .split('\n')
      .filter((line) => /^\| \d+ \| `\w+` \|/.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()))
      .map(([, , name, meaning, action]) => [name!.replace(/`/g, ''), {meaning, action}])
    expect(Object.fromEntries(rows)).toEqual(EXIT_MEANINGS)
    expect(Object.keys(EXIT_MEANINGS).sort()).toEqual(Object.keys(ExitCode).sort())
  })

  it('makes one line without Markdown', () => {
    expect(exitLine(ExitCode.LOCKED)).toBe(
      'exit 5 (LOCKED): Another mailkeep process is working on this account (its pid is in the message). Nothing was done. Wait for it; a lock held by a process that died is released by the kernel.',
    )
    expect(exitLine(ExitCode.DAMAGED)).toContain('mailkeep local check, then')
    expect(exitLine(ExitCode.DAMAGED)).not.toContain('\n')
  })
})
