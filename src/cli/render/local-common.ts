/** What the `local` commands share. */

/** `a@x, b@y` → ['a@x', 'b@y']; undefined when the flag is absent. */
export function accountList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
}
