#!/usr/bin/env node
// mailkeep in two minutes, with no mail account of your own: `npm run demo`.
//
// 1. makes sure Dovecot is installed (scripts/install-dovecot.sh --if-missing, nothing else);
// 2. starts a private Dovecot on 127.0.0.1 in a temp dir, with the test suite's harness
//    (test/support/dovecot.ts), and seeds sample mail from the fixture corpus into a few folders;
// 3. writes ./demo/config.json (mode 0600) and runs the real CLI, `mailkeep backup`, twice: the
//    first run downloads everything, the second finds nothing new;
// 4. shows the files it made and searches the backup, then stops Dovecot by its PID (also on
//    an error or Ctrl-C), and names commands that read the backup, which work without it.
//
// Plain JavaScript, so Node 20 runs it as it is. The harness is TypeScript: its few files are
// transpiled (no type check) with the `typescript` devDependency into ./demo/.support/ first,
// so the demo uses exactly the code the tests use. The CLI runs from dist/ (`npm run build`).
import {spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {chmod, mkdir, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
// MAILKEEP_DEMO_DIR: another directory for the config and the backup (the test of this script).
const DEMO = process.env.MAILKEEP_DEMO_DIR ?? join(ROOT, 'demo')
const SUPPORT = join(DEMO, '.support')
const CONFIG = join(DEMO, 'config.json')
const BACKUP = join(DEMO, 'backup')
const CLI = join(ROOT, 'bin', 'run.js')
const HARNESS = ['dovecot', 'ports', 'processes', 'raw-imap', 'temp-dir', 'mail-seed']
const USER = {user: 'demo@example.test', password: `demo-${randomBytes(6).toString('hex')}`}

const say = (text = '') => process.stdout.write(`${text}\n`)
const heading = (text) => say(process.stdout.isTTY ? `\n\x1b[1m== ${text}\x1b[0m` : `\n== ${text}`)

let dovecot
/** Set while Dovecot starts, so that Ctrl-C in that moment still stops it. */
let dovecotStarting
let child
let stopping = false

async function main() {
  heading('1. Dovecot')
  run('bash', [join(ROOT, 'scripts', 'install-dovecot.sh'), '--if-missing'])
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the demo needs root: its private Dovecot runs the mail processes as a separate user (as the test suite does).\n' +
        'Run it as root, e.g. in the project container, or: sudo npm run demo',
    )
  }
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (`npm run demo` does)')

  const harness = await loadHarness()
  dovecotStarting = harness.dovecot.startDovecot({users: [USER]})
  dovecot = await dovecotStarting
  dovecotStarting = undefined
  say(`private Dovecot (pid ${dovecot.pid}) listening on ${dovecot.host}:${dovecot.port}, data in ${dovecot.dir}`)

  heading('2. Sample mail')
  const corpus = readdirSync(join(ROOT, 'test', 'fixtures', 'corpus'))
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => ({raw: readFileSync(join(ROOT, 'test', 'fixtures', 'corpus', f)), flags: ['\\Seen']}))
  const seed = harness['mail-seed']
  const half = Math.ceil(corpus.length / 2)
  await seed.appendMessages(dovecot, USER, 'INBOX', corpus.slice(0, half))
  await seed.ensureFolder(dovecot, USER, 'Receipts')
  await seed.appendMessages(dovecot, USER, 'Receipts', corpus.slice(half))
  await seed.ensureFolder(dovecot, USER, 'Archive')
  await seed.seedFolder(dovecot, USER, 'Archive/2023', 2000)
  for (const folder of await seed.listFolders(dovecot, USER)) {
    const status = await seed.folderStatus(dovecot, USER, folder.name)
    say(`  ${folder.name.padEnd(14)} ${String(status.messages).padStart(5)} messages`)
  }

  heading('3. Config')
  await mkdir(DEMO, {recursive: true, mode: 0o700})
  await rm(BACKUP, {recursive: true, force: true})
  const config = {
    version: '2.2',
    accounts: [
      {
        username: USER.user,
        password: USER.password,
        // Relative paths in a config are relative to the config file's directory.
        local_path: 'backup',
        server: dovecot.host,
        connection_options: {port: dovecot.port, ssl: false},
        multi_fetch_size: 100,
      },
    ],
    download_strategy: 'delay_metadata',
  }
  await writeFile(CONFIG, `${JSON.stringify(config, null, 2)}\n`, {mode: 0o600})
  await chmod(CONFIG, 0o600)
  say(`${relative(ROOT, CONFIG)} (mode 0600): one account, plain IMAP on port ${dovecot.port}, backups in ${relative(ROOT, BACKUP)}/`)

  heading(`4. mailkeep backup --config ${relative(ROOT, CONFIG)}`)
  const first = await mailkeep(['backup', '--config', CONFIG])
  if (first !== 0) throw new Error(`mailkeep backup exited ${first}`)

  heading(`5. What it wrote in ${relative(ROOT, BACKUP)}/`)
  for (const line of await tree(BACKUP)) say(`  ${line}`)
  const inbox = JSON.parse(await readFile(join(BACKUP, 'INBOX.imap'), 'utf8'))
  say(`\nINBOX.imap (metadata, imap-backup's version 3): uid_validity ${inbox.uid_validity}, ${inbox.messages.length} entries, e.g.`)
  say(`  ${JSON.stringify(inbox.messages[0])}`)
  const mbox = await readFile(join(BACKUP, 'INBOX.mbox'), 'utf8')
  say('INBOX.mbox (MBOXRD) begins:')
  for (const line of mbox.split('\n').slice(0, 4)) say(`  ${line}`)

  heading('6. A second run: only what changed is fetched (nothing here)')
  const second = await mailkeep(['backup', '--config', CONFIG])
  if (second !== 0) throw new Error(`the second mailkeep backup exited ${second}`)

  heading('7. Reading the backup: no server needed')
  const search = await mailkeep(['local', 'search', USER.user, '--config', CONFIG, '--subject', 'e'])
  if (search !== 0) throw new Error(`mailkeep local search exited ${search}`)

  // What is suggested here must work after this script ends: the server is gone then, so only
  // commands that read the backup (test/install/demo.test.ts runs each of these lines).
  const shown = (path) => (path.startsWith(ROOT) ? relative(ROOT, path) : path)
  say(`\nThe demo's Dovecot stops now; the config and the backup stay in ${shown(DEMO)}/${DEMO === join(ROOT, 'demo') ? ' (git ignores it)' : ''}.`)
  say('These read the backup and work without the server:')
  say(`  node bin/run.js local folders ${USER.user} --config ${shown(CONFIG)}`)
  say(`  node bin/run.js local list ${USER.user} INBOX --config ${shown(CONFIG)}`)
  say(`  node bin/run.js local search ${USER.user} --since 2000-01-01 --config ${shown(CONFIG)}`)
  say(`  node bin/run.js local check --config ${shown(CONFIG)}`)
  say('A backup with this config needs the server again: run `npm run demo` once more.')
}

/** Transpiles the harness's TypeScript files into demo/.support and imports them. */
async function loadHarness() {
  const ts = (await import('typescript')).default
  await mkdir(SUPPORT, {recursive: true, mode: 0o700})
  const modules = {}
  for (const name of HARNESS) {
    const source = await readFile(join(ROOT, 'test', 'support', `${name}.ts`), 'utf8')
    const {outputText} = ts.transpileModule(source, {
      fileName: `${name}.ts`,
      compilerOptions: {module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022},
    })
    await writeFile(join(SUPPORT, `${name}.js`), outputText)
  }
  // The files import each other as './x.js'; an ESM package.json makes Node load them as modules.
  await writeFile(join(SUPPORT, 'package.json'), '{"type": "module"}\n')
  for (const name of HARNESS) modules[name] = await import(pathToFileURL(join(SUPPORT, `${name}.js`)).href)
  return modules
}

/** Runs the real CLI with the terminal attached (so you see its progress line); resolves with its exit code. */
function mailkeep(args) {
  say(`$ mailkeep ${args.map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) : a)).join(' ')}`)
  return new Promise((resolve, reject) => {
    // Its own process group: Ctrl-C reaches only this script, which passes it on exactly once
    // (a second SIGINT would make the CLI stop at once instead of rolling back).
    child = spawn(process.execPath, [CLI, ...args], {stdio: 'inherit', cwd: ROOT, detached: true})
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      child = undefined
      resolve(code ?? (signal === 'SIGINT' ? 130 : 143))
    })
  })
}

function run(command, args) {
  const result = spawnSync(command, args, {stdio: 'inherit'})
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`)
}

async function tree(dir, prefix = '') {
  const out = []
  for (const entry of (await readdir(dir, {withFileTypes: true})).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      out.push(`${prefix}${entry.name}/`)
      out.push(...(await tree(path, `${prefix}  `)))
    } else {
      const info = await stat(path)
      out.push(`${prefix}${entry.name.padEnd(24 - prefix.length)} ${String(info.size).padStart(8)} bytes  mode ${(info.mode & 0o777).toString(8)}`)
    }
  }
  return out
}

async function stopDovecot() {
  if (dovecot === undefined && dovecotStarting !== undefined) dovecot = await dovecotStarting.catch(() => undefined)
  dovecotStarting = undefined
  if (dovecot === undefined) return
  const server = dovecot
  dovecot = undefined
  say(`\nstopping Dovecot (pid ${server.pid})`)
  await server.stop()
}

// Ctrl-C (or a signal sent to this script) is passed on to a running CLI, which rolls back to
// its last savepoint and exits; then Dovecot is stopped, and this script exits 130/143.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    process.stderr.write(`\ndemo: ${signal}, stopping\n`)
    if (child !== undefined) child.kill(signal)
    const waitChild = child === undefined ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve))
    void waitChild
      .then(stopDovecot)
      .catch((error) => process.stderr.write(`demo: could not stop Dovecot: ${error.message}\n`))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  })
}

try {
  await main()
} catch (error) {
  // After Ctrl-C the signal handler reports and exits; the CLI's exit 130 is no news then.
  if (!stopping) process.stderr.write(`\ndemo: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
} finally {
  if (!stopping) await stopDovecot().catch((error) => process.stderr.write(`demo: could not stop Dovecot: ${error.message}\n`))
}
