/**
 * Reads, checks and validates the config file. The file holds passwords, so it must be mode 0600
 * (private-file.ts) and its content never appears in a message: a JSON syntax error is reported
 * by line and column only.
 */
import {resolve} from 'node:path'
import {ConfigError} from '../shared/errors.js'
import {checkResolvedBackupPaths} from './backup-paths.js'
import {locateJsonSyntaxError} from './json-position.js'
import {parseConfig} from './parse-config.js'
import {readPrivateFile} from './private-file.js'
import type {Config} from './types.js'

export async function loadConfig(path: string): Promise<Config> {
  const file = resolve(path)
  const text = await readPrivateFile(file, () => configNotFound(file))
  const config = parseConfig(parseConfigJson(text, file), file)
  await checkResolvedBackupPaths(config.accounts, file)
  return config
}

/** `Configuration file '<path>' not found` (compat Appendix A). */
export function configNotFound(file: string): ConfigError {
  return new ConfigError(`Configuration file '${file}' not found`, {
    hint: `run 'mailkeep setup' to create it (add --config '${file}' to create it there), or pass --config with the right path`,
  })
}

/** JSON.parse with an error that gives the position but, unlike V8's message, no content. */
export function parseConfigJson(text: string, file: string): unknown {
  // A UTF-8 byte order mark (some Windows editors add one) is not JSON but harmless.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text
  try {
    return JSON.parse(body) as unknown
  } catch {
    // V8's error (and so a `cause`) quotes the text around the error: it is dropped on purpose.
    const problem = locateJsonSyntaxError(body)
    const at = problem === undefined ? 'at an unknown position' : `at line ${problem.line}, column ${problem.column}: ${problem.reason}`
    throw new ConfigError(`Config file '${file}' is not valid JSON ${at}; fix the file there (its content is not shown because it holds passwords)`)
  }
}
