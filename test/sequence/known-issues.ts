/**
 * Operation combinations the sequence test leaves out, or checks it relaxes, because a bug it
 * finds is known and being fixed elsewhere (issue 11 of the tracker, items by number). Each one
 * names its item: remove the entry once the fix is merged, and the test checks that case again.
 *
 * MAILKEEP_SEQUENCE_KNOWN_ISSUES=none turns every exclusion off (to see the test find them);
 * `=item10,item5` keeps only the ones named. docs/reliability.md lists them.
 */
export interface KnownIssue {
  /** Short name used in code and in MAILKEEP_SEQUENCE_KNOWN_ISSUES. */
  name: string
  /** What it leaves out, and the item of issue 11 that fixes it. */
  what: string
}

export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    name: 'restore-clash',
    what:
      'found by this test, not in issue 11: a restore that meets a folder holding other mail (a clash) uploads every backed-up message of the folder into `<name>-<uidvalidity>`, also those the clashing folder already holds: the destination then holds them twice. Two ways to it: `restore --to B` after copy, mirror or migrate put copies into a folder of B that also holds B\'s own mail; `restore` into the own server after the server changed the folder\'s UIDVALIDITY and new mail arrived. No `restore --to B` with copy, mirror or migrate, and no `restore` with a UIDVALIDITY change, in one sequence',
  },
  {
    name: 'inbox-clash',
    what:
      "found by this test, not in issue 11: on a server whose personal namespace has a prefix (Courier's `INBOX.`), a restore whose INBOX clashes names its folder `INBOX-<uidvalidity>`, outside the namespace: the server refuses to create it and INBOX is not restored (exit 4, every run). On Courier, B's own mail never goes into its INBOX",
  },
  {
    name: 'ignore-history-rename',
    what:
      "found by this test (seed 4256912402 on Cyrus, shrunk: `append folder=2 n=3; backup; rename from=4 to=6; ignore-history; backup` in mirror mode), not in issue 11 and not covered by the ignore-history-aside fix (kept-aside copies only): after the server renamed a folder, `ignore-history` writes placeholders for its messages under the new name, and the next mirror-mode backup removes the local folder of the old name, the only real copy of them. For the lead. No `ignore-history` in a sequence with `rename`",
  },
  {
    name: 'item3',
    what: 'item 3 (switching to mirror mode keeps messages deleted earlier, QRESYNC servers): on Dovecot and Cyrus, mirror_mode is chosen once per sequence, never switched',
  },
  {name: 'item5', what: 'item 5 (unselected server folders are not reported): the report of unselected folders is not checked'},
  {name: 'item7', what: 'item 7 (one folder whose local path cannot be made stops the whole run): no folder with a name too long to store, or whose path blocks another'},
  {name: 'item8', what: 'item 8 (nested local_paths are accepted): no step that nests account B\'s local_path inside A\'s'},
  {
    name: 'item10',
    what: 'item 10 (flags go stale by default): in keep-all mode without --refresh, the flags of messages stored by an earlier run are not checked on CONDSTORE servers',
  },
  {name: 'item12', what: 'item 12 (a named pipe where a file should be makes runs hang): no step that puts a FIFO in the backup'},
  {name: 'item13', what: 'item 13 (a password_command leaving a background child keeps the run waiting): no such step'},
  {name: 'item15', what: 'item 15 (a wrong host or port takes minutes to fail): no step with a wrong port'},
  {name: 'tmp-files', what: 'issue 11, smaller items (temporary files left by kill -9 are not cleaned up): leftover `.*.tmp` files are not reported'},
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

/** For tests of the checker: the exclusions in force, replaced. */
export function setExcluded(names: readonly string[] | undefined): void {
  cached = names === undefined ? undefined : new Set(names)
}
