/**
 * The test secrets of test-secrets.json (also read by scripts/scan-secrets.mjs), by role.
 */
import {readFileSync} from 'node:fs'

interface SecretsFile {
  secrets: Array<{label: string; value: string}>
}

const file = JSON.parse(readFileSync(new URL('./test-secrets.json', import.meta.url), 'utf8')) as SecretsFile

function secret(labelStart: string): string {
  const found = file.secrets.find((s) => s.label.startsWith(labelStart))
  if (found === undefined) throw new Error(`test-secrets.json has no secret labelled '${labelStart}…'`)
  return found.value
}

export const WRONG_PASSWORD = secret('wrong password')
export const TOKEN_VALID = secret('OAuth2 token, valid (first)')
export const TOKEN_ROTATED = secret('OAuth2 token, valid (rotated)')
export const TOKEN_EXPIRED = secret('OAuth2 token, expired')
export const SINGLE_PASSWORD = secret('single backup --password')
export const ENV_PASSWORD = secret('password_env value')
export const FAILING_COMMAND_OUTPUT = secret('password_command output')

/** Every test secret with its label. */
export const TEST_SECRETS: ReadonlyArray<{label: string; value: string}> = file.secrets
