import {readFileSync} from 'node:fs'

let cached: string | undefined

/** mailkeep's version, from package.json (two levels up from both src/shared and dist/shared). */
export function mailkeepVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}).version
  return cached
}
