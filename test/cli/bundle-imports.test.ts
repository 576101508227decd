// Commands that never connect do not load imapflow: in the bundle that ships (dist/bundle, built by
// `npm run build`, whose esbuild metafile is dist/bundle/meta.json), the modules an entry imports
// statically, transitively, include no file of imapflow. imapflow and what it imports are about a
// third of what `backup` loads; a command that only reads the backup has no use for them (it was
// loaded by local list, local check and the others through one shared engine module).
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

interface Metafile {
  inputs: Record<string, {imports: {path: string; kind: string; external?: boolean}[]}>
  outputs: Record<string, {imports: {path: string; kind: string; external?: boolean}[]; inputs: Record<string, unknown>; entryPoint?: string}>
}

function metafile(): Metafile {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle', 'meta.json'), 'utf8')) as Metafile
  } catch (error) {
    throw new Error(`dist/bundle/meta.json could not be read: run \`npm run build\` first (${(error as Error).message})`, {cause: error})
  }
}

/** The source files an entry of the bundle loads before it runs: its own and those of every chunk it imports, transitively. */
function loadedSources(meta: Metafile, entry: string): Set<string> {
  const sources = new Set<string>()
  const seen = new Set<string>()
  const visit = (output: string): void => {
    if (seen.has(output)) return
    seen.add(output)
    const file = meta.outputs[output]
    if (file === undefined) throw new Error(`${output} is not in the bundle`)
    for (const source of Object.keys(file.inputs)) sources.add(source)
    for (const i of file.imports) if (i.kind === 'import-statement' && i.external !== true) visit(i.path)
  }
  visit(`dist/bundle/${entry}.js`)
  return sources
}

/** The chain of static imports from `from` to the first imapflow file, to say why a test failed. */
function chainToImapflow(meta: Metafile, from: string): string {
  const previous = new Map<string, string | undefined>([[from, undefined]])
  const queue = [from]
  while (queue.length > 0) {
    const file = queue.shift()!
    if (file.includes('node_modules/imapflow/')) {
      const chain: string[] = []
      for (let f: string | undefined = file; f !== undefined; f = previous.get(f)) chain.unshift(f)
      return chain.join(' → ')
    }
    for (const i of meta.inputs[file]?.imports ?? []) {
      if (i.kind !== 'import-statement' || previous.has(i.path)) continue
      previous.set(i.path, file)
      queue.push(i.path)
    }
  }
  return '(no static chain from the command source: through a shared chunk)'
}

const isImapflow = (source: string): boolean => source.includes('node_modules/imapflow/')

/**
 * [bundle entry, its source]: every entry that never connects to an IMAP server (it reads local
 * files, prints, or talks HTTP to an OAuth2 provider); '' where the source is a package's.
 */
const OFFLINE: [string, string][] = [
  ['mailkeep', 'src/cli/main.ts'],
  ['help-class', 'src/cli/help.ts'],
  ['hook-command-not-found', 'src/cli/hooks/command-not-found.ts'],
  ['cmd-version', 'src/cli/commands/version.ts'],
  ['cmd-help', ''],
  ['cmd-autocomplete', ''],
  ['cmd-autocomplete-create', ''],
  ['cmd-autocomplete-script', ''],
  ['cmd-auth-login', 'src/cli/commands/auth/login.ts'],
  ['cmd-auth-status', 'src/cli/commands/auth/status.ts'],
  ['cmd-local-accounts', 'src/cli/commands/local/accounts.ts'],
  ['cmd-local-folders', 'src/cli/commands/local/folders.ts'],
  ['cmd-local-list', 'src/cli/commands/local/list.ts'],
  ['cmd-local-show', 'src/cli/commands/local/show.ts'],
  ['cmd-local-search', 'src/cli/commands/local/search.ts'],
  ['cmd-local-check', 'src/cli/commands/local/check.ts'],
  ['cmd-local-requote', 'src/cli/commands/local/requote.ts'],
  ['cmd-utils-export', 'src/cli/commands/utils/export.ts'],
  ['cmd-utils-export-to-thunderbird', 'src/cli/commands/utils/export-to-thunderbird.ts'],
]

/**
 * The entries that connect, and so load imapflow (`stats` compares the backup with the server;
 * `local repair` connects when it can, to fetch what it rebuilds).
 */
const CONNECTING = [
  'cmd-backup',
  'cmd-single-backup',
  'cmd-copy',
  'cmd-migrate',
  'cmd-mirror',
  'cmd-restore',
  'cmd-remote-capabilities',
  'cmd-remote-folders',
  'cmd-remote-namespaces',
  'cmd-setup',
  'cmd-stats',
  'cmd-local-repair',
  'cmd-utils-ignore-history',
]

/**
 * The bundle's entries: each output file that esbuild made from an entry point, without the
 * chunks (a chunk with an entry point is one loaded by a dynamic import, only when it runs).
 */
const entries = (meta: Metafile): string[] =>
  Object.entries(meta.outputs)
    .filter(([output, file]) => file.entryPoint !== undefined && output.endsWith('.js') && !output.startsWith('dist/bundle/chunk-'))
    .map(([output]) => output.replace(/^dist\/bundle\//, '').replace(/\.js$/, ''))

describe('the bundle: commands that never connect do not load imapflow', () => {
  const meta = metafile()

  it.each(OFFLINE)('%s loads no module of imapflow', (entry, source) => {
    const loaded = [...loadedSources(meta, entry)].filter(isImapflow)
    expect(loaded, loaded.length === 0 ? '' : `${entry} loads imapflow: ${source === '' ? loaded[0] : chainToImapflow(meta, source)}`).toEqual([])
  })

  it('every entry of the bundle is named above, as one that never connects or one that does (a new command is placed in one list)', () => {
    const named = new Set([...OFFLINE.map(([entry]) => entry), ...CONNECTING])
    expect(entries(meta).filter((entry) => !named.has(entry)).sort()).toEqual([])
    expect(OFFLINE.length + CONNECTING.length).toBe(entries(meta).length)
  })

  it.each(CONNECTING)('%s does load it: the check above sees imapflow when it is there', (entry) => {
    expect([...loadedSources(meta, entry)].some(isImapflow)).toBe(true)
  })
})
