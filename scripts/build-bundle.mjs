#!/usr/bin/env node
// Bundles the CLI with esbuild into dist/bundle/ (`npm run build` runs it after tsc, which
// type-checks and still writes dist/ for the tests that load single modules from it).
// docs/performance.md says why: a Raspberry Pi pays for every file Node resolves, reads and
// compiles at start-up, and for every library that is loaded but never called.
//
// Layout (every file directly in dist/bundle/, so that `new URL('../../package.json',
// import.meta.url)` in src/shared/version.ts means the same in any of them as in dist/shared/):
//
//   mailkeep.js            bin/run.js imports run() from it (src/cli/main.ts)
//   cmd-<id>.js            one entry per command (src/cli/commands/**, and `help`)
//   chunk-<hash>.js        code shared by several entries (esbuild code splitting)
//   commands/<topic>/<name>.js
//                          one-line re-exports of the cmd-*.js files: oclif's command directory
//                          (package.json `oclif.commands`), laid out as oclif expects
//   ../../oclif.manifest.json
//                          what oclif knows of every command without loading it: written
//                          here, after the bundle, as `oclif manifest` would write it
//
// So a run loads main, the one command it runs and the chunks that command needs: `backup`
// never loads @inquirer/*, the restore/export engines or the repair code, and `version` not
// even imapflow or the store.
//
// What goes in, tree-shaken and minified (whitespace and syntax only: identifiers and class
// names stay, so an "internal error" stack trace can be read without a source map):
// @oclif/core and @oclif/plugin-help's `help` command, @oclif/plugin-autocomplete's commands and
// @oclif/plugin-not-found's hook (bundled as our own commands and hook, so there is no plugin to
// find at start-up), pino, imapflow, write-file-atomic, @inquirer/*; our help class
// (src/cli/help.ts, which adds the pages of docs/) and command_not_found hook, as entries of their
// own (help-class.js, hook-command-not-found.js) that package.json names; every package as it is
// installed, but for the modules imapflow imports and mailkeep's use of it never reaches,
// replaced by stubs that throw (scripts/imapflow-stubs.mjs: the test suite uses the same stubs,
// so the tests run the imapflow the users run; docs/performance.md, "The build").
// What stays outside: fs-ext (a native addon, loaded with createRequire by src/store/lock.ts)
// and what @oclif/core needs only to run TypeScript sources in development (OCLIF_DEV_ONLY).
//
//   node scripts/build-bundle.mjs [--analyze]     # --analyze: what takes the space, per file
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {mkdir, rm, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {dirname, join, relative, sep} from 'node:path'
import {fileURLToPath} from 'node:url'
import {build, analyzeMetafile} from 'esbuild'
import {Plugin, settings} from '@oclif/core'
import {IMAPFLOW_STUBS, isStubbed, stubSource} from './imapflow-stubs.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT_DIR = join(ROOT, 'dist', 'bundle')
const COMMANDS_DIR = join(ROOT, 'src', 'cli', 'commands')
const MANIFEST = join(ROOT, 'oclif.manifest.json')
const require = createRequire(import.meta.url)
// Where the packages really are (require.resolve follows symlinks, as esbuild does).
const HELP_COMMAND = join(dirname(require.resolve('@oclif/plugin-help')), 'commands', 'help.js')
// @oclif/plugin-autocomplete's commands (shell completion), bundled as our own like `help`: its
// package exports only an empty index, so its command files are found next to it.
const AUTOCOMPLETE_DIR = join(dirname(require.resolve('@oclif/plugin-autocomplete')), 'commands', 'autocomplete')
const AUTOCOMPLETE_COMMANDS = [
  ['autocomplete', join(AUTOCOMPLETE_DIR, 'index.js')],
  ['autocomplete:create', join(AUTOCOMPLETE_DIR, 'create.js')],
  ['autocomplete:script', join(AUTOCOMPLETE_DIR, 'script.js')],
]
/**
 * Modules oclif loads by the path package.json gives (`oclif.helpClass`, `oclif.hooks`), each an
 * entry of its own: [entry name, source, the path package.json must give].
 */
const CONFIGURED_ENTRIES = [
  ['help-class', join(ROOT, 'src', 'cli', 'help.ts'), './dist/bundle/help-class.js'],
  ['hook-command-not-found', join(ROOT, 'src', 'cli', 'hooks', 'command-not-found.ts'), './dist/bundle/hook-command-not-found.js'],
]

/**
 * What @oclif/core requires only to run a CLI from its TypeScript sources in development
 * (config/ts-path.js, util/read-tsconfig.js). src/cli/main.ts turns that off
 * (`settings.enableAutoTranspile = false`), so they are never loaded; bundled, TypeScript alone
 * would be 7 MB.
 */
const OCLIF_DEV_ONLY = ['typescript', 'ts-node', 'tsx', 'tsx/*', 'ts-node/*']

/** imapflow's unused imports, stubbed for imports from inside imapflow (scripts/imapflow-stubs.mjs). */
const stubPlugin = {
  name: 'mailkeep-imapflow-stubs',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(IMAPFLOW_STUBS).map((m) => m.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`)
    b.onResolve({filter}, (args) => (isStubbed(args.path, args.importer) ? {path: args.path, namespace: 'mailkeep-stub'} : undefined))
    b.onLoad({filter: /.*/, namespace: 'mailkeep-stub'}, (args) => ({loader: 'js', contents: stubSource(args.path)}))
  },
}

/**
 * Packages whose modules only define things (no work at import time) but do not say so in their
 * package.json (`"sideEffects": false`), so esbuild keeps every module they import even when
 * nothing of it is used. Telling esbuild lets it drop, e.g., @inquirer/prompts' editor prompt
 * and its charset detection and conversion tables (chardet, iconv-lite): `setup` never opens
 * an external editor.
 */
const SIDE_EFFECT_FREE = /^@inquirer\//

const sideEffectFreePlugin = {
  name: 'mailkeep-side-effect-free',
  setup(b) {
    b.onResolve({filter: SIDE_EFFECT_FREE}, async (args) => {
      if (args.pluginData?.sideEffectFree) return undefined
      const resolved = await b.resolve(args.path, {kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: {sideEffectFree: true}})
      if (resolved.errors.length > 0) return {errors: resolved.errors}
      return {...resolved, sideEffects: false}
    })
  },
}

/** Every command module under src/cli/commands, as [oclif id, source path]. */
function commandFiles(dir = COMMANDS_DIR) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...commandFiles(path))
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) {
      out.push([relative(COMMANDS_DIR, path).slice(0, -'.ts'.length).split(sep).join(':'), path])
    }
  }
  return out
}

const entryName = (id) => `cmd-${id.replaceAll(':', '-')}`

/** Writes commands/<topic>/<name>.js re-exporting each command's entry. */
async function writeCommandDirectory(commands) {
  for (const [id] of commands) {
    const parts = id.split(':')
    const file = join(OUT_DIR, 'commands', ...parts) + '.js'
    await mkdir(dirname(file), {recursive: true})
    const target = relative(dirname(file), join(OUT_DIR, `${entryName(id)}.js`)).split(sep).join('/')
    await writeFile(file, `export {default} from '${target.startsWith('.') ? target : `./${target}`}'\n`)
  }
}

/**
 * oclif.manifest.json, as `oclif manifest` makes it: oclif's own Plugin loads every command once
 * (here, at build time) and records its flags, arguments and descriptions, and the file to
 * import when it runs. With it, a run reads one JSON file instead of importing every command.
 */
async function writeManifest() {
  settings.enableAutoTranspile = false
  const plugin = new Plugin({root: ROOT, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true})
  await plugin.load()
  const ids = Object.keys(plugin.manifest.commands)
  if (ids.length === 0) throw new Error('oclif found no commands: is package.json `oclif.commands` "./dist/bundle/commands"?')
  await writeFile(MANIFEST, `${JSON.stringify(plugin.manifest, null, 2)}\n`)
  return ids.length
}

/** package.json must point oclif at the bundle's command directory (docs/performance.md). */
function checkPackageJson() {
  const pjson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const problems = []
  if (pjson.oclif?.commands !== './dist/bundle/commands') problems.push('"oclif.commands" must be "./dist/bundle/commands"')
  for (const plugin of ['@oclif/plugin-help', '@oclif/plugin-autocomplete', '@oclif/plugin-not-found']) {
    if ((pjson.oclif?.plugins ?? []).includes(plugin)) problems.push(`"oclif.plugins" must not list ${plugin} (its commands and hooks are bundled)`)
  }
  if (pjson.oclif?.helpClass !== CONFIGURED_ENTRIES[0][2]) problems.push(`"oclif.helpClass" must be "${CONFIGURED_ENTRIES[0][2]}"`)
  if (pjson.oclif?.hooks?.command_not_found !== CONFIGURED_ENTRIES[1][2]) problems.push(`"oclif.hooks.command_not_found" must be "${CONFIGURED_ENTRIES[1][2]}"`)
  if (problems.length > 0) throw new Error(`package.json is not set up for the bundle: ${problems.join('; ')} (see docs/performance.md, "The build")`)
}

async function main() {
  checkPackageJson()
  const commands = [...commandFiles(), ['help', HELP_COMMAND], ...AUTOCOMPLETE_COMMANDS]
  await rm(OUT_DIR, {recursive: true, force: true})
  await rm(MANIFEST, {force: true})
  const result = await build({
    entryPoints: {
      mailkeep: join(ROOT, 'src', 'cli', 'main.ts'),
      ...Object.fromEntries(commands.map(([id, path]) => [entryName(id), path])),
      ...Object.fromEntries(CONFIGURED_ENTRIES.map(([name, path]) => [name, path])),
    },
    outdir: OUT_DIR,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    // Not keepNames: it wraps every function definition in a __name() call, also the closures
    // imapflow's parser creates for every response (4 % of a big backup's CPU). Names survive
    // anyway (identifiers are not minified); checkClassNames() below guards the one way they
    // could not: esbuild renaming a class to avoid a clash (`Foo2`), which would change the
    // `name` of an error class (src/shared/errors.ts uses new.target.name) in --json output.
    keepNames: false,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
    external: ['fs-ext', ...OCLIF_DEV_ONLY],
    // CommonJS packages inside an ES module bundle call require() and name __filename and
    // __dirname (@oclif/core, in fallbacks): give them real ones, those of the bundle file.
    banner: {
      js: [
        `import {createRequire as __mailkeepRequire} from 'node:module';`,
        `const require=__mailkeepRequire(import.meta.url);`,
        `const __filename=new URL(import.meta.url).pathname;`,
        `const __dirname=__filename.slice(0,__filename.lastIndexOf('/'));`,
      ].join(''),
    },
    plugins: [stubPlugin, sideEffectFreePlugin],
  })
  await writeFile(join(OUT_DIR, 'meta.json'), JSON.stringify(result.metafile))
  await checkClassNames(result.metafile)
  await writeCommandDirectory(commands)
  const count = await writeManifest()
  const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith('.js'))
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`
  const size = (name) => result.metafile.outputs[relative(ROOT, join(OUT_DIR, name)).split(sep).join('/')]
  console.log(`dist/bundle: ${outputs.length} files, ${kib(outputs.reduce((a, [, o]) => a + o.bytes, 0))}; ${count} commands in oclif.manifest.json`)
  for (const name of ['mailkeep.js', 'cmd-backup.js', 'cmd-version.js']) {
    const closure = loadedBy(result.metafile, relative(ROOT, join(OUT_DIR, name)).split(sep).join('/'))
    console.log(`  ${name}: ${kib(size(name).bytes)}, ${kib(closure)} with what it imports`)
  }
  if (process.argv.includes('--analyze')) console.log(await analyzeMetafile(result.metafile, {verbose: false}))
}

/**
 * Fails the build if esbuild renamed one of our classes to avoid a name clash inside a chunk
 * (`class Foo2` / `Foo2=class`): without keepNames, its `name` would then be "Foo2".
 */
async function checkClassNames(metafile) {
  const ours = new Set()
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/^(?:export )?(?:abstract )?class ([A-Za-z_$][\w$]*)/gm)) ours.add(m[1])
    }
  }
  walk(join(ROOT, 'src'))
  const renamed = []
  for (const file of Object.keys(metafile.outputs).filter((f) => f.endsWith('.js'))) {
    const code = readFileSync(join(ROOT, file), 'utf8')
    for (const re of [/\bclass ([A-Za-z_$][\w$]*?)(\d+)\b/g, /(?<![\w$.])([A-Za-z_$][\w$]*?)(\d+)=class\b/g]) {
      for (const m of code.matchAll(re)) if (ours.has(m[1])) renamed.push(`${m[1]}${m[2]} in ${file}`)
    }
  }
  if (renamed.length > 0) throw new Error(`esbuild renamed classes of src/ to avoid a clash, which changes their name: ${renamed.join(', ')}; rename one of the clashing declarations`)
}

/** Bytes of an output file and every chunk it imports statically, transitively. */
function loadedBy(metafile, file, seen = new Set()) {
  if (seen.has(file)) return 0
  seen.add(file)
  const out = metafile.outputs[file]
  return out.bytes + out.imports.filter((i) => i.kind === 'import-statement' && !i.external).reduce((a, i) => a + loadedBy(metafile, i.path, seen), 0)
}

await main()
