/**
 * The documentation, followed literally: the README's install section run as it stands in a
 * copy of this checkout (npm ci, build, `npm pack`, `npm install -g` into a temporary prefix:
 * npm's global prefix and PATH point there, nothing else is changed), then a backup, the help
 * pages and shell completion from the installed package, then every `sh` block of
 * docs/commands/*.md and of docs/scheduling.md, run as they are against a private Dovecot with
 * the accounts they name. Network: only the npm registry (or npm's cache) for the packages.
 *
 * Markdown blocks are taken from the files at test time, so a doc that stops working fails here.
 */
import {spawn} from 'node:child_process'
import {chmod, mkdir, readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {corpusMessage} from '../fixtures/corpus.js'
import {recordTranscript, REPO_ROOT} from '../support/cli.js'
import {startDovecot, type DovecotInstance, type TestUser} from '../support/dovecot.js'
import {appendMessages, createFolder, seedFolder} from '../support/mail-seed.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'

/** The accounts the documentation's examples name, each a user of the private Dovecot. */
const EXAMPLE_ACCOUNTS = ['me@example.com', 'work@example.org', 'me@old.example', 'me@new.example', 'archive@example.net', 'old@example.com', 'me@example.net']

let dovecot: DovecotInstance
let dir: string
/** npm's global prefix for the install: `mailkeep` ends up in PREFIX/bin. */
let prefix: string
let home: string
let npmCache: string

beforeAll(async () => {
  const users: TestUser[] = EXAMPLE_ACCOUNTS.map((user, i) => ({user, password: `Example-Pw-${i}-4c1e9a`}))
  dovecot = await startDovecot({users})
  const me = users[0]!
  await appendMessages(dovecot, me, 'INBOX', ['08-rfc2047-encoded-headers', '07-latin1-8bit-body', '18-no-from-no-date'].map((name) => ({raw: corpusMessage(name).raw, flags: ['\\Seen']})))
  for (const folder of ['Sent', 'Work']) {
    await createFolder(dovecot, me, folder)
    await seedFolder(dovecot, me, folder, 5)
  }
  for (const user of [users[1]!, users[2]!, users[5]!]) await seedFolder(dovecot, user, 'INBOX', 4)

  dir = await makeTempDir('mailkeep-install-')
  prefix = join(dir, 'prefix')
  home = join(dir, 'home')
  await mkdir(home, {recursive: true, mode: 0o700})
  npmCache = (await sh('npm config get cache', {cwd: REPO_ROOT})).stdout.trim()
  // The user's config, as `mailkeep setup` would write it: the accounts of the examples.
  await mkdir(join(home, '.mailkeep'), {mode: 0o700})
  const accounts = users.map((u) => ({username: u.user, password: u.password, local_path: join(home, 'backup', u.user), server: dovecot.host, connection_options: {port: dovecot.port, ssl: false}}))
  await writeFile(join(home, '.mailkeep', 'config.json'), `${JSON.stringify({version: '2.2', accounts}, null, 2)}\n`, {mode: 0o600})
  await chmod(join(home, '.mailkeep', 'config.json'), 0o600)
}, 180_000)

afterAll(async () => {
  await dovecot?.stop()
  if (dir !== undefined) await removeTempDir(dir)
})

interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

/** `bash -c script`, with PATH led by the install prefix (and `path`) and HOME the test's. */
function sh(script: string, options: {cwd: string; env?: Record<string, string>; path?: string[]}): Promise<Ran> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home ?? process.env['HOME'],
    USER: 'root',
    PATH: [...(options.path ?? []), ...(prefix === undefined ? [] : [join(prefix, 'bin')]), process.env['PATH'] ?? '/usr/bin:/bin'].join(':'),
    // npm's global prefix: where `npm install -g` installs (the README's command is unchanged).
    ...(prefix === undefined ? {} : {npm_config_prefix: prefix}),
    ...(npmCache === undefined ? {} : {npm_config_cache: npmCache}),
    npm_config_update_notifier: 'false',
    ...options.env,
  }
  delete env['MAILKEEP_CONFIG']
  delete env['NODE_ENV']
  return new Promise((resolve, reject) => {
    // As a person would run the lines: a command that fails ends it (its status is the result),
    // but not one inside a subshell or before the last stage of a pipe, which a person would not notice either.
    const guarded = `trap 'echo "failed: $BASH_COMMAND" >&2; exit 1' ERR\n${script}`
    const child = spawn('bash', ['-c', guarded], {cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.once('error', reject)
    child.once('close', (code) => {
      recordTranscript('bash', [], {code, signal: null, stdout, stderr})
      resolve({code, stdout, stderr})
    })
  })
}

function show(r: Ran): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`
}

/** The `sh` code blocks of a markdown text, in order. */
export function shBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!)
}

describe('installed as the README says', () => {
  it("runs the README's install section in a copy of the checkout: npm install -g from the packed tarball, with no warning", async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8')
    const marker = readme.indexOf('<!-- followed by test/install/install.test.ts')
    expect(marker).toBeGreaterThan(0)
    const block = shBlocks(readme.slice(marker))[0]!
    expect(block).toContain('npm install -g')
    // "In a clone of this repository": the files git knows of, as a clone would have them.
    const clone = join(dir, 'mailkeep')
    await mkdir(clone)
    const copied = await sh(`git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C '${clone}'`, {cwd: REPO_ROOT})
    expect(copied.code, show(copied)).toBe(0)
    const ran = await sh(block, {cwd: clone})
    expect(ran.code, show(ran)).toBe(0)
    const version = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {version: string}).version
    expect(ran.stdout).toContain(`mailkeep ${version}\n${join(prefix, 'bin', 'mailkeep')}\n`)
    // Nothing a user would have to understand: no npm warning (npm 11 warned about fs-ext's
    // install script not being allowed), no error output of the install.
    expect(`${ran.stdout}\n${ran.stderr}`).not.toMatch(/npm warn|allowScripts|install-scripts/i)
    // The package carries what its hints point to.
    const packed = await readdir(join(prefix, 'lib', 'node_modules', 'mailkeep', 'docs'))
    expect(packed).toEqual(expect.arrayContaining(['config.md', 'scheduling.md', 'design.md', 'commands']))
  }, 900_000)

  it('the installed command backs up, prints help pages, and completes in bash', async () => {
    const backup = await sh('mailkeep --version && mailkeep backup --accounts me@example.com', {cwd: home})
    expect(backup.code, show(backup)).toBe(0)
    expect(backup.stdout).toMatch(/^me@example\.com: ok, 3 of 3 folders changed$/m)
    const page = await sh('mailkeep help config | head -n 1', {cwd: home})
    expect(page.stdout).toBe('# The configuration file\n')

    // Completion, as `mailkeep autocomplete bash` tells one to set it up, then asked as bash asks.
    const setup = await sh('mailkeep autocomplete bash', {cwd: home})
    expect(setup.code, show(setup)).toBe(0)
    expect(setup.stdout).toContain('printf "$(mailkeep autocomplete script bash)" >> ~/.bashrc')
    const completed = await sh(
      [
        'eval "$(mailkeep autocomplete script bash)"',
        'complete -p mailkeep >/dev/null',
        'COMP_WORDS=(mailkeep local li); COMP_CWORD=2; COMP_LINE="mailkeep local li"; COMP_POINT=${#COMP_LINE}',
        '_mailkeep_autocomplete; echo "local li: ${COMPREPLY[*]}"',
        'COMP_WORDS=(mailkeep local search --fr); COMP_CWORD=3; COMP_LINE="mailkeep local search --fr"; COMP_POINT=${#COMP_LINE}',
        '_mailkeep_autocomplete; echo "search --fr: ${COMPREPLY[*]}"',
      ].join('\n'),
      {cwd: home},
    )
    expect(completed.code, show(completed)).toBe(0)
    expect(completed.stdout).toMatch(/^local li: list\s*$/m)
    expect(completed.stdout).toMatch(/^search --fr: --from\s*$/m)
  }, 300_000)
})

describe('docs/commands/*.md, followed literally', () => {
  /** In the order a reader would try them: backups first, then what reads or uses them. */
  const PAGES = ['backup', 'local', 'remote', 'stats', 'restore', 'copy-mirror-migrate', 'export', 'utils', 'auth']

  it.each(PAGES)('every sh block of docs/commands/%s.md runs as it is (exit 0)', async (page) => {
    const blocks = shBlocks(await readFile(join(REPO_ROOT, 'docs', 'commands', `${page}.md`), 'utf8'))
    expect(blocks.length, `docs/commands/${page}.md has no sh block`).toBeGreaterThan(0)
    const cwd = join(dir, `work-${page}`)
    await mkdir(cwd, {recursive: true})
    for (const block of blocks) {
      const ran = await sh(block, {cwd})
      expect(ran.code, `docs/commands/${page}.md:\n${block}\n${show(ran)}`).toBe(0)
      expect(`${ran.stdout}${ran.stderr}`).not.toMatch(/mailkeep: (internal )?error/)
    }
  }, 300_000)

  it('covers every page but setup (interactive: test/setup/setup.test.ts drives it on a terminal)', async () => {
    const pages = (await readdir(join(REPO_ROOT, 'docs', 'commands'))).map((f) => f.replace(/\.md$/, '')).sort()
    expect(pages).toEqual([...PAGES, 'setup'].sort())
  })
})

describe('docs/scheduling.md, followed literally', () => {
  it('cron and systemd as the page writes them, with the path of the installed command', async () => {
    // Stand-ins for what a test must not change on its machine: the user's crontab, systemd,
    // logind, sudo and the journal. systemctl `start` runs the unit's ExecStart= as systemd
    // would (a oneshot: it waits), its output going to the "journal".
    const stubs = join(dir, 'stubs')
    await mkdir(stubs)
    const stub = async (name: string, body: string): Promise<void> => {
      await writeFile(join(stubs, name), `#!/bin/bash\n${body}\n`, {mode: 0o755})
    }
    await stub('crontab', 'f="$HOME/.crontab"\ncase "$1" in\n  -l) [ -f "$f" ] && cat "$f" || { echo "no crontab for $USER" >&2; exit 1; } ;;\n  -) cat > "$f" ;;\n  *) exit 2 ;;\nesac')
    await stub(
      'systemctl',
      'echo "systemctl $*" >> "$HOME/systemd.log"\nif [ "$1" = --user ] && [ "$2" = start ]; then\n  cmd=$(sed -n "s/^ExecStart=//p" "$HOME/.config/systemd/user/$3")\n  sh -c "$cmd" >> "$HOME/journal.log" 2>&1\nfi',
    )
    await stub('loginctl', 'echo "loginctl $*" >> "$HOME/systemd.log"')
    await stub('sudo', 'exec "$@"')
    await stub('journalctl', 'cat "$HOME/journal.log"')

    const page = await readFile(join(REPO_ROOT, 'docs', 'scheduling.md'), 'utf8')
    const blocks = shBlocks(page)
    expect(blocks.length).toBeGreaterThanOrEqual(4)
    for (const block of blocks) {
      const ran = await sh(block, {cwd: home, path: [stubs]})
      expect(ran.code, `docs/scheduling.md:\n${block}\n${show(ran)}`).toBe(0)
    }
    const mailkeep = join(prefix, 'bin', 'mailkeep')
    const crontab = await readFile(join(home, '.crontab'), 'utf8')
    expect(crontab).toBe(`17 */4 * * * /usr/bin/nice -n 10 /usr/bin/ionice -c 3 ${mailkeep} backup --quiet --skip-locked --max-duration 3h30m\n`)
    // The line as cron runs it: its command with cron's environment (PATH=/usr/bin:/bin).
    const command = crontab.trim().split(' ').slice(5).join(' ')
    const cron = await new Promise<Ran>((resolve) => {
      const child = spawn('/bin/sh', ['-c', command], {cwd: home, env: {HOME: home, LOGNAME: 'root', PATH: '/usr/bin:/bin', SHELL: '/bin/sh'}, stdio: ['ignore', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.once('close', (code) => resolve({code, stdout, stderr}))
    })
    recordTranscript('cron', [], {...cron, signal: null})
    expect(cron, show(cron)).toEqual({code: 0, stdout: '', stderr: ''})

    const service = await readFile(join(home, '.config', 'systemd', 'user', 'mailkeep.service'), 'utf8')
    expect(service).toContain(`\nExecStart=${mailkeep} backup --log-format json --max-duration 3h30m\n`)
    expect(await readFile(join(home, '.config', 'systemd', 'user', 'mailkeep.timer'), 'utf8')).toContain('OnCalendar=0/4:17')
    const calls = await readFile(join(home, 'systemd.log'), 'utf8')
    expect(calls).toBe('systemctl --user daemon-reload\nsystemctl --user enable --now mailkeep.timer\nloginctl enable-linger root\nsystemctl --user start mailkeep.service\n')
    // The service's run: JSON log lines, and the summary.
    const journal = await readFile(join(home, 'journal.log'), 'utf8')
    expect(journal).toMatch(/^\{"level":"info",.*"msg":"Running backup of account 'me@example\.com'"/m)
    expect(journal).toMatch(/^total: \d+ new messages/m)
  }, 300_000)
})
