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

/** [bundle entry, its source]: the commands that only read local files or print. */
const OFFLINE: [string, string][] = [
  ['mailkeep', 'src/cli/main.ts'],
  ['cmd-version', 'src/cli/commands/version.ts'],
  ['cmd-help', ''],
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

describe('the bundle: commands that never connect do not load imapflow', () => {
  const meta = metafile()

  it.each(OFFLINE)('%s loads no module of imapflow', (entry, source) => {
    const loaded = [...loadedSources(meta, entry)].filter(isImapflow)
    expect(loaded, loaded.length === 0 ? '' : `${entry} loads imapflow: ${source === '' ? loaded[0] : chainToImapflow(meta, source)}`).toEqual([])
  })

  it('does load it where a command connects (backup, remote folders): the check above sees imapflow when it is there', () => {
    expect([...loadedSources(meta, 'cmd-backup')].some(isImapflow)).toBe(true)
    expect([...loadedSources(meta, 'cmd-remote-folders')].some(isImapflow)).toBe(true)
  })
})
