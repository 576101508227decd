/**
 * The commands that only read the backup never connect, so they must not load the IMAP layer
 * and imapflow (about 370 KiB of the bundle parsed at every start). What a command loads is what
 * its bundle entry imports statically, as the build's metafile records it (`npm run build`
 * writes dist/bundle/meta.json): one import of engine/access/account-access.ts (sessions) from
 * a local command is enough to pull it in.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {REPO_ROOT} from '../support/cli.js'

interface Metafile {
  outputs: Record<string, {imports: Array<{path: string; kind: string}>; inputs: Record<string, unknown>}>
}

const meta = JSON.parse(readFileSync(join(REPO_ROOT, 'dist/bundle/meta.json'), 'utf8')) as Metafile

/** The source files a bundle entry loads at start: its static imports, followed to the end. */
function loadedSources(command: string): string[] {
  const seen = new Set<string>()
  const pending = [`dist/bundle/cmd-${command}.js`]
  expect(meta.outputs[pending[0]!], `no bundle entry for ${command}`).toBeDefined()
  while (pending.length > 0) {
    const output = pending.pop()!
    if (seen.has(output)) continue
    seen.add(output)
    for (const i of meta.outputs[output]?.imports ?? []) if (i.kind === 'import-statement') pending.push(i.path)
  }
  return [...seen].flatMap((output) => Object.keys(meta.outputs[output]?.inputs ?? {}))
}

const loadsImap = (command: string): boolean => loadedSources(command).some((source) => source.includes('node_modules/imapflow/') || source.startsWith('src/imap/connect'))

describe('commands that never connect do not load imapflow', () => {
  it.each(['local-accounts', 'local-list', 'local-folders', 'local-search', 'local-show', 'local-check', 'local-requote'])('%s', (command) => {
    expect(loadsImap(command)).toBe(false)
  })

  it('while the commands that connect do (the check above can fail)', () => {
    expect(loadsImap('backup')).toBe(true)
    expect(loadsImap('remote-folders')).toBe(true)
  })
})
