/**
 * The comma-separated list flags (`--accounts a@x,b@y`, restore's `--folders INBOX,Sent`):
 * items are trimmed and empty ones dropped. (`utils export --folders` has its own parser, which
 * also takes `\,` inside a name.)
 */

/** `a@x, b@y` → ['a@x', 'b@y']; undefined when the flag is absent. */
export function commaList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}
