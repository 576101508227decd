/**
 * Secrets that exist only while the tests run (tokens an authorization server issues, client
 * secrets it generates) reach CI's scan of all output (.ci/run, scripts/scan-secrets.mjs) through
 * files: when MAILKEEP_TEST_SECRETS names a directory, registerRuntimeSecrets() keeps
 * `<dir>/secrets-<pid>.json` (one file per test process, in test-secrets.json's shape) up to date,
 * and .ci/run passes the directory to the scan with `--secrets`. The directory is not one the
 * scan reads as output, so the secrets are looked for, never found in their own list.
 *
 * Without the variable (a developer's run), nothing is written; each test file still scans its
 * own output for the same values.
 */
import {mkdirSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

export const RUNTIME_SECRETS_ENV = 'MAILKEEP_TEST_SECRETS'

const known = new Map<string, string>()

/** Adds `values` (under `label`) to this process's file; empty and known values are skipped. */
export function registerRuntimeSecrets(label: string, values: Iterable<string>): void {
  let changed = false
  for (const value of values) {
    if (value === '' || known.has(value)) continue
    known.set(value, `${label} #${known.size + 1}`)
    changed = true
  }
  const dir = process.env[RUNTIME_SECRETS_ENV]
  if (!changed || dir === undefined || dir === '') return
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const file = join(dir, `secrets-${process.pid}.json`)
  const body = {
    description: 'Secrets generated while the tests ran (test/support/runtime-secrets.ts); none may appear in any output.',
    secrets: [...known].map(([value, l]) => ({label: l, value})),
  }
  // Written aside and renamed: the scan never reads half a file.
  writeFileSync(`${file}.new`, `${JSON.stringify(body)}\n`, {mode: 0o600})
  renameSync(`${file}.new`, file)
}

/** Every value registered in this process. */
export function runtimeSecrets(): string[] {
  return [...known.keys()]
}
