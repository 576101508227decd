#!/usr/bin/env node
/**
 * Scans files (e.g. the captured output of a test run, and the transcripts of the CLI runs that
 * test/support/cli.ts writes when MAILKEEP_TEST_TRANSCRIPTS is set) for the test suite's secrets
 * and reports every hit, without printing the secret itself. A directory stands for every
 * regular file under it (recursively, in name order). Exit status: 0 no hit, 1 hits, 2 usage
 * error (no path, or a path that cannot be read).
 *
 *   node scripts/scan-secrets.mjs PATH... [--secrets JSON|DIR]...
 *   some-command 2>&1 | node scripts/scan-secrets.mjs -
 *
 * The secrets: the passwords of DEFAULT_USERS in test/support/dovecot.ts and every `value` of
 * test/secrets/test-secrets.json (more files with `--secrets`; a directory stands for every
 * `*.json` file in it: test/support/runtime-secrets.ts writes the secrets generated while the
 * tests ran, such as OAuth2 tokens, there). Each is looked for as written,
 * JSON-escaped, URL-encoded, and base64-encoded at each of the three byte alignments, which
 * finds it inside any base64 text that contains it, e.g. a SASL PLAIN response
 * (`\0user\0password`, RFC 4616) or an XOAUTH2/OAUTHBEARER response (RFC 7628) as sent in an
 * AUTHENTICATE line.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DOVECOT_TS = `${ROOT}test/support/dovecot.ts`
const TEST_SECRETS_JSON = `${ROOT}test/secrets/test-secrets.json`

/** Base64 fragments shorter than this (6 bytes of the secret) could match by chance. */
const MIN_BASE64_CHARS = 8

/** `{label, value}` of each password of DEFAULT_USERS, read from the TypeScript source. */
export function defaultUserSecrets(source = readFileSync(DOVECOT_TS, 'utf8')) {
  const start = source.indexOf('DEFAULT_USERS')
  if (start < 0) throw new Error(`${DOVECOT_TS}: DEFAULT_USERS not found`)
  const block = source.slice(start, source.indexOf('])', start))
  const entry = /\{\s*user:\s*'((?:[^'\\]|\\.)*)',\s*password:\s*'((?:[^'\\]|\\.)*)'\s*\}/g
  const found = []
  for (const match of block.matchAll(entry)) found.push({label: `password of ${unescapeJs(match[1])}`, value: unescapeJs(match[2])})
  if (found.length === 0) throw new Error(`${DOVECOT_TS}: no {user, password} entries in DEFAULT_USERS`)
  return found
}

/** `{label, value}` of each secret of a test-secrets.json file. */
export function jsonSecrets(path = TEST_SECRETS_JSON) {
  const parsed = JSON.parse(readFileSync(path, 'utf8'))
  if (!Array.isArray(parsed.secrets)) throw new Error(`${path}: no "secrets" array`)
  return parsed.secrets.map((s, i) => ({label: typeof s.label === 'string' ? s.label : `${path} #${i + 1}`, value: String(s.value)}))
}

function unescapeJs(text) {
  const simple = {n: '\n', r: '\r', t: '\t', 0: '\0'}
  return text.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_, e) => {
    if (e.startsWith('u{')) return String.fromCodePoint(parseInt(e.slice(2, -1), 16))
    if (e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16))
    return simple[e] ?? e
  })
}

/**
 * The forms under which `secret` can show up: `{form, text}`. The base64 forms are the
 * characters that encode only bytes of the secret when it starts at offset 0, 1 or 2 of a
 * 3-byte group: any base64 text containing the secret contains one of them.
 */
export function secretForms(secret) {
  const forms = [{form: 'as written', text: secret}]
  const add = (form, text) => {
    if (text.length > 0 && !forms.some((f) => f.text === text)) forms.push({form, text})
  }
  add('JSON-escaped', JSON.stringify(secret).slice(1, -1))
  add('URL-encoded', encodeURIComponent(secret))
  const bytes = Buffer.from(secret, 'utf8')
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64')
    const firstGroup = Math.ceil(shift / 3)
    const endGroup = Math.floor((shift + bytes.length) / 3)
    const core = encoded.slice(firstGroup * 4, endGroup * 4)
    if (core.length >= MIN_BASE64_CHARS) add(`base64 (offset ${shift})`, core)
  }
  return forms
}

/** Every occurrence: `{label, form, line}` (1-based line numbers). */
export function scanText(text, secrets) {
  const hits = []
  for (const {label, value} of secrets) {
    for (const {form, text: needle} of secretForms(value)) {
      for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
        hits.push({label, form, line: lineOf(text, at)})
      }
    }
  }
  return hits.sort((a, b) => a.line - b.line)
}

function lineOf(text, index) {
  let line = 1
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) line++
  return line
}

/** The files a path stands for: itself, or every regular file under a directory, sorted. */
export function filesOf(path) {
  if (path === '-' || !statSync(path).isDirectory()) return [path]
  return readdirSync(path)
    .sort()
    .flatMap((name) => {
      const child = join(path, name)
      const stat = statSync(child)
      return stat.isDirectory() ? filesOf(child) : stat.isFile() ? [child] : []
    })
}

/** A --secrets argument: a JSON file, or every `*.json` file of a directory (none is fine). */
export function secretFilesOf(path) {
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(path, name))
}

function main(argv) {
  const paths = []
  const extra = []
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--secrets') extra.push(argv[++i])
    else if (argv[i] === '-h' || argv[i] === '--help') return usage(0)
    else paths.push(argv[i])
  }
  if (paths.length === 0 || extra.includes(undefined)) return usage(2)
  let files
  try {
    files = paths.flatMap(filesOf)
  } catch (error) {
    // A path that is not there must not pass as "no hits".
    process.stderr.write(`scan-secrets: ${error.message}\n`)
    return 2
  }
  let secrets
  try {
    secrets = [...defaultUserSecrets(), ...jsonSecrets(), ...extra.flatMap(secretFilesOf).flatMap((path) => jsonSecrets(path))]
  } catch (error) {
    process.stderr.write(`scan-secrets: ${error.message}\n`)
    return 2
  }
  let total = 0
  let bytes = 0
  for (const file of files) {
    const text = readFileSync(file === '-' ? 0 : file, 'utf8')
    bytes += Buffer.byteLength(text)
    for (const hit of scanText(text, secrets)) {
      total++
      // Never the secret itself: where, which one, in which form.
      process.stdout.write(`${file === '-' ? '<stdin>' : file}:${hit.line}: ${hit.label} (${hit.form})\n`)
    }
  }
  const summary = `scan-secrets: ${bytes} bytes in ${files.length} file(s), ${secrets.length} secrets`
  if (total > 0) {
    process.stdout.write(`${summary}: ${total} hit(s)\n`)
    return 1
  }
  process.stdout.write(`${summary}: no hits\n`)
  return 0
}

function usage(code) {
  ;(code === 0 ? process.stdout : process.stderr).write('usage: node scripts/scan-secrets.mjs PATH... [--secrets JSON|DIR]...   (PATH: a file, a directory (every file under it), or - for stdin)\n')
  return code
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2))
