/**
 * Operation combinations the sequence test leaves out, or checks it relaxes, because a bug it
 * found is known and being fixed elsewhere. Each one is named for its bug: remove the entry once
 * the fix is merged, and the test checks that case again. (Issue 11's items 1-15 and the
 * `inbox-clash` and `tmp-files` findings were left out here until their fixes reached main.)
 *
 * MAILKEEP_SEQUENCE_KNOWN_ISSUES=none turns every exclusion off (to see the test find them);
 * `=ignore-history-rename` keeps only the ones named. docs/reliability.md lists them.
 */
export interface KnownIssue {
  /** Short name used in code and in MAILKEEP_SEQUENCE_KNOWN_ISSUES. */
  name: string
  /** What it leaves out, and why. */
  what: string
}

export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    name: 'ignore-history-rename',
    what:
      "found by this test (seed 4256912402 on Cyrus, shrunk: `append folder=2 n=3; backup; rename from=4 to=6; ignore-history; backup` in mirror mode), not in issue 11 and not covered by the ignore-history-aside fix (kept-aside copies only): after the server renamed a folder, `ignore-history` writes placeholders for its messages under the new name, and the next mirror-mode backup removes the local folder of the old name, the only real copy of them. For the lead. No `ignore-history` in a sequence with `rename`",
  },
]

function active(): Set<string> {
  const raw = process.env.MAILKEEP_SEQUENCE_KNOWN_ISSUES
  if (raw === undefined || raw.trim() === '') return new Set(KNOWN_ISSUES.map((k) => k.name))
  if (raw.trim() === 'none') return new Set()
  const names = raw.split(',').map((s) => s.trim())
  for (const n of names) if (!KNOWN_ISSUES.some((k) => k.name === n)) throw new Error(`MAILKEEP_SEQUENCE_KNOWN_ISSUES: unknown name '${n}' (known: ${KNOWN_ISSUES.map((k) => k.name).join(', ')}, none)`)
  return new Set(names)
}

let cached: Set<string> | undefined

/** Whether the exclusion `name` is in force (see the file comment). */
export function excluded(name: string): boolean {
  if (!KNOWN_ISSUES.some((k) => k.name === name)) throw new Error(`unknown known issue '${name}'`)
  cached ??= active()
  return cached.has(name)
}

