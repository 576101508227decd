/**
 * An unknown command (`mailkeep local lsit me@example.com INBOX`, which oclif sees as the id
 * `local:lsit:me@example.com:INBOX`). On a terminal, oclif's own plugin-not-found asks "Did you
 * mean local list?" and runs the corrected command when the answer is yes. Without a terminal
 * (cron, a script) there is nobody to ask and the plugin would only say that the command does
 * not exist: then the suggestion is printed as the error, computed with the plugin's own measure
 * (Levenshtein distance, src/shared/nearest.ts), so both ways suggest the same kind of command.
 */
import {toConfiguredId, type Hook} from '@oclif/core'
import notFound from '@oclif/plugin-not-found'
import {UsageError} from '../../shared/errors.js'
import {editDistance} from '../../shared/nearest.js'

const hook: Hook<'command_not_found'> = async function (opts) {
  if (process.stdin.isTTY === true && process.stderr.isTTY === true) return notFound.call(this, opts)
  const ids = opts.config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const typed = toConfiguredId(opts.id, opts.config)
  const best = closestCommand(opts.id, ids)
  const topic = opts.config.findTopic(opts.id.split(':')[0]!)
  const hint = topic === undefined ? '`mailkeep help` lists the commands' : `\`mailkeep help ${topic.name}\` lists its commands`
  if (best === undefined) throw new UsageError(`\`${typed}\` is not a mailkeep command`, {hint})
  const suggested = [toConfiguredId(best.id, opts.config), ...best.rest].join(' ')
  throw new UsageError(`\`${typed}\` is not a mailkeep command; did you mean \`${suggested}\`?`, {hint})
}

export default hook

export interface Suggestion {
  /** The command's id (`local:list`). */
  id: string
  /** The words typed after the mistyped command: its arguments (`me@example.com`, `INBOX`). */
  rest: string[]
}

/**
 * The command nearest to what was typed. oclif joins the command and its arguments into one id,
 * so every prefix of the typed words is compared with every command, and the arguments after
 * the best prefix are kept. Too far from every command (more than half the typed command's
 * letters wrong), there is no suggestion.
 */
export function closestCommand(id: string, ids: readonly string[]): Suggestion | undefined {
  const words = id.split(':')
  let best: (Suggestion & {distance: number}) | undefined
  for (let n = 1; n <= words.length; n++) {
    const typed = words.slice(0, n).join(':')
    for (const candidate of ids) {
      const distance = editDistance(typed, candidate)
      if (distance > Math.max(1, Math.floor(typed.length / 2))) continue
      if (best === undefined || distance < best.distance) best = {id: candidate, rest: words.slice(n), distance}
    }
  }
  return best === undefined ? undefined : {id: best.id, rest: best.rest}
}
