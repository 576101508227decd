/**
 * Everything the scenarios saw mailkeep print: the CLI's stdout and stderr (text, `--json`,
 * `--log-format json` logs), the records of in-process runs' loggers and their reports. At the
 * end it is scanned for the test passwords and tokens, in every form they could leak in (as
 * written, JSON-escaped, URL-encoded, inside base64 as in an AUTHENTICATE line), and handed to
 * scripts/scan-secrets.mjs, which must agree.
 */
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {REPO_ROOT} from '../../support/cli.js'
import {DEFAULT_USERS} from '../../support/dovecot.js'

export interface Secret {
  label: string
  value: string
}

/** The passwords of the test users and every secret of test/secrets/test-secrets.json. */
export function testSecrets(): Secret[] {
  const file = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'secrets', 'test-secrets.json'), 'utf8')) as {secrets: Secret[]}
  return [...DEFAULT_USERS.map((u) => ({label: `password of ${u.user}`, value: u.password})), ...file.secrets]
}

/** The texts under which a secret could appear (scripts/scan-secrets.mjs looks for the same). */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])
  const bytes = Buffer.from(secret, 'utf8')
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64')
    const core = encoded.slice(Math.ceil(shift / 3) * 4, Math.floor((shift + bytes.length) / 3) * 4)
    if (core.length >= 8) forms.add(core)
  }
  return [...forms]
}

export interface SecretHit {
  secret: string
  source: string
}

export class Transcript {
  private readonly parts: Array<{source: string; text: string}> = []

  add(source: string, text: string): void {
    if (text !== '') this.parts.push({source, text})
  }

  get size(): number {
    return this.parts.reduce((n, p) => n + p.text.length, 0)
  }

  text(): string {
    return this.parts.map((p) => p.text).join('\n')
  }

  /** Every secret found, by label and where (never the secret itself). */
  scan(extra: readonly Secret[] = []): SecretHit[] {
    const hits: SecretHit[] = []
    for (const secret of [...testSecrets(), ...extra]) {
      const forms = secretForms(secret.value)
      for (const part of this.parts) {
        if (forms.some((f) => part.text.includes(f))) hits.push({secret: secret.label, source: part.source})
      }
    }
    return hits
  }

  /** Runs scripts/scan-secrets.mjs over the transcript; returns its exit status and report. */
  async scanWithScript(dir: string): Promise<{status: number | null; output: string}> {
    const file = join(dir, 'reliability-transcript.txt')
    await writeFile(file, this.text())
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'scan-secrets.mjs'), file], {encoding: 'utf8'})
    return {status: result.status, output: `${result.stdout}${result.stderr}`}
  }
}
