/**
 * Secrets. A config file (or a password file) that group or others can read is refused (exit 3)
 * by every command, with the file and the fix named and the password not printed. Then runs
 * meant to tempt a leak: debug logs as text and as JSON, `--json` reports, a refused login, and a
 * server that quotes the password back in its answers (a NO to LOGIN and a BAD later on). Every
 * test file of the suite ends by scanning all it printed (lib/suite.ts `expectNoSecrets`); this
 * scenario also scans every file the runs left under HOME except the ones that hold secrets on
 * purpose.
 */
import {chmod, readFile, readdir, writeFile} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {describe as describeRun} from '../lib/cli.js'
import {account, configPath, writeConfig, type ScenarioEnv} from '../lib/env.js'
import type {RunCheck} from '../lib/ledger.js'
import {MODEL_PASSWORD, folder, modelMessage, startModelServer} from '../lib/model-server.js'
import {deriveSeed} from '../lib/rng.js'
import {secretForms, testSecrets} from '../lib/transcript.js'
import type {BackupWorld} from './kill-backup.js'

export const LOOSE_CONFIG = 'config with loose permissions'
export const LEAK_TEMPTATIONS = 'secrets: verbose, JSON, hostile echo'

const LOOSE_MODES = [0o644, 0o640, 0o604, 0o660, 0o666, 0o700] as const

export async function looseConfigScenario(env: ScenarioEnv, world: BackupWorld): Promise<void> {
  for (const mode of LOOSE_MODES) {
    const seed = deriveSeed(env.seed, `loose-${mode}`)
    const home = await env.tempDir('mailkeep-rel-loose-')
    const check = await env.ledger.run(LOOSE_CONFIG, `mode ${mode.toString(8)}`, seed, async (check) => {
      const root = join(home, 'backup')
      const path = await writeConfig(home, {accounts: [account(world.dovecot, world.user, root)]}, mode)
      for (const args of [['backup'], ['backup', '--json', '--verbose'], ['local', 'check'], ['restore', world.user.user, '--folders', 'INBOX']]) {
        const result = await env.cli.run(home, args)
        env.ledger.count(LOOSE_CONFIG, 'commands refused', result.code === 3 ? 1 : 0)
        check.expect(result.code === 3, `mode ${mode.toString(8)}, ${args.join(' ')}: exit ${result.code}, expected 3: ${describeRun(result)}`)
        check.expect((result.stdout + result.stderr).includes(path), `mode ${mode.toString(8)}, ${args.join(' ')}: the error does not name ${path}`)
        check.expect(/chmod|0600|permission/i.test(result.stdout + result.stderr), `mode ${mode.toString(8)}, ${args.join(' ')}: the error does not say how to fix it`)
      }
      check.expect((await readdir(home)).every((n) => n !== 'backup'), `mode ${mode.toString(8)}: a refused run created the backup directory`)
    })
    await env.release(home, check.problems.length === 0)
  }
  // A password file readable by others is refused too.
  const seed = deriveSeed(env.seed, 'loose-password-file')
  const home = await env.tempDir('mailkeep-rel-loose-')
  const check = await env.ledger.run(LOOSE_CONFIG, 'password_file mode 644', seed, async (check) => {
    const file = join(home, 'password')
    await writeFile(file, `${world.user.password}\n`)
    await chmod(file, 0o644)
    const entry = account(world.dovecot, world.user, join(home, 'backup'))
    delete entry.password
    await writeConfig(home, {accounts: [{...entry, password_file: file}]})
    const result = await env.cli.run(home, ['backup', '--verbose'])
    check.expect(result.code === 3, `a password_file of mode 644: exit ${result.code}, expected 3: ${describeRun(result)}`)
    check.expect((result.stdout + result.stderr).includes(file), 'the error does not name the password file')
  })
  await env.release(home, check.problems.length === 0)
}

export async function leakTemptationsScenario(env: ScenarioEnv, world: BackupWorld): Promise<void> {
  if (!env.secrets.some((s) => s.value === MODEL_PASSWORD)) env.secrets.push({label: 'password of the model server', value: MODEL_PASSWORD})
  const seed = deriveSeed(env.seed, 'leak-temptations')
  const home = await env.tempDir('mailkeep-rel-leak-')
  // Without AUTH=PLAIN the client sends LOGIN, whose line this server quotes back when it refuses
  // it; and it answers a later command with the password in its text.
  const echo = await startModelServer([folder('INBOX', 9, [modelMessage(1, 'echo'), modelMessage(2, 'echo')])], {}, {capabilities: 'IMAP4rev1 LITERAL+'})
  echo.hooks = {
    before: (c, conn) => {
      if (c.name === 'LOGIN' && !c.line.includes(MODEL_PASSWORD)) {
        conn.send(`${c.tag} NO [AUTHENTICATIONFAILED] you sent: ${c.line}\r\n`)
        return true
      }
      if (c.name === 'UID SEARCH') {
        conn.send(`${c.tag} BAD command unknown; by the way, your password is ${MODEL_PASSWORD}\r\n`)
        return true
      }
      return false
    },
  }
  try {
    const check = await env.ledger.run(LEAK_TEMPTATIONS, 'runs', seed, async (check) => {
      const root = join(home, 'backup')
      await writeConfig(home, {
        accounts: [
          account(world.dovecot, world.user, join(root, 'alice'), {folders: ['INBOX']}),
          account(world.dovecot, {user: world.dovecot.users[1]!.user, password: 'wrong-Pw-7d0c2b'}, join(root, 'bob-wrong')),
          account(echo, {user: 'echo@example.test', password: MODEL_PASSWORD}, join(root, 'echo'), {connection_options: {port: echo.port, ssl: false, timeout: 2}}),
          account(echo, {user: 'echo2@example.test', password: 'wrong-Pw-7d0c2b'}, join(root, 'echo2'), {connection_options: {port: echo.port, ssl: false, timeout: 2}}),
        ],
      })
      for (const args of [['backup', '--verbose'], ['backup', '--verbose', '--log-format', 'json'], ['backup', '--json', '--verbose'], ['local', 'check', '--json'], ['backup', '-a', world.user.user, '--json']]) {
        const result = await env.cli.run(home, args)
        env.ledger.count(LEAK_TEMPTATIONS, 'runs')
        check.expect(result.code !== null && result.code !== 70, `${args.join(' ')}: exit ${result.code}: ${describeRun(result)}`)
      }
      await expectNoSecretFiles(check, env, home, new Set([configPath(home)]))
    })
    await env.release(home, check.problems.length === 0)
  } finally {
    await echo.close()
  }
}

/** No secret in any file under `dir` except those listed (the config holds passwords on purpose). */
async function expectNoSecretFiles(check: RunCheck, env: ScenarioEnv, dir: string, except: ReadonlySet<string>): Promise<void> {
  const secrets = [...testSecrets(), ...env.secrets]
  const walk = async (at: string): Promise<string[]> => {
    const out: string[] = []
    for (const entry of await readdir(at, {withFileTypes: true})) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) out.push(...(await walk(path)))
      else if (!except.has(path)) out.push(path)
    }
    return out
  }
  const files = await walk(dir)
  env.ledger.count(LEAK_TEMPTATIONS, 'files scanned', files.length)
  for (const file of files) {
    const text = (await readFile(file)).toString('latin1')
    for (const s of secrets) if (secretForms(s.value).some((f) => text.includes(f))) check.problem(`${s.label} in ${relative(dir, file)}`)
  }
}
