/**
 * Text of `mailkeep local list` (compat §2.2): a header row and 100 dashes, then per message the
 * UID right-aligned in 10 columns, `: `, the subject padded to 60 columns (cut to 57 + `...`),
 * ` - ` and the date.
 */
import type {ListedMessage} from '../../engine/local-list.js'
import {printable} from './text.js'

export const SUBJECT_WIDTH = 60

export function renderList(messages: readonly ListedMessage[]): string {
  const lines = [`${'UID'.padEnd(10)}  ${'Subject'.padEnd(SUBJECT_WIDTH)} - Date`, '-'.repeat(12 + SUBJECT_WIDTH + 28)]
  for (const m of messages) lines.push(`${String(m.uid).padStart(10)}: ${subjectCell(m.subject)} - ${m.date}`)
  return `${lines.join('\n')}\n`
}

function subjectCell(subject: string): string {
  const chars = Array.from(printable(subject))
  if (chars.length > SUBJECT_WIDTH) return `${chars.slice(0, SUBJECT_WIDTH - 3).join('')}...`
  return chars.join('') + ' '.repeat(SUBJECT_WIDTH - chars.length)
}
