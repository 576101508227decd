/**
 * "Did you mean …?": the known word nearest to a mistyped one, by Levenshtein distance
 * (fast-levenshtein, the measure oclif's plugin-not-found uses; this is its one importer).
 * Used for mistyped commands (src/cli/hooks/command-not-found.ts) and config keys and values
 * (src/config), where a typo must be an error that names the right spelling, not a setting
 * silently left unused.
 */
import levenshtein from 'fast-levenshtein'

export function editDistance(a: string, b: string): number {
  return levenshtein.get(a, b, {useCollator: true})
}

/**
 * Whether `typed` is close enough to `known` to be a typo of it: at most one edit for words of
 * up to 3 letters (`sll` for `ssl`), two for longer ones (`prot` for `port`, a swap, counts as
 * two), never for an exact match. Case differences count as edits.
 */
export function isTypoOf(typed: string, known: string): boolean {
  if (typed === known) return false
  const distance = editDistance(typed, known)
  return distance <= (Math.min(typed.length, known.length) <= 3 ? 1 : 2)
}

/** The nearest word of `known` that `typed` is a typo of, or undefined. */
export function nearestTypo(typed: string, known: Iterable<string>): string | undefined {
  let best: {word: string; distance: number} | undefined
  for (const word of known) {
    if (!isTypoOf(typed, word)) continue
    const distance = editDistance(typed, word)
    if (best === undefined || distance < best.distance) best = {word, distance}
  }
  return best?.word
}
