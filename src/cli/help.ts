/**
 * mailkeep's help: oclif's (commands, topics, flags), plus the pages of `docs/`, which the
 * package carries. Error hints and command descriptions name a page as `mailkeep help config`
 * (docs/config.md) or `mailkeep help commands/local` (docs/commands/local.md), so that they work
 * wherever mailkeep was installed, without the user knowing where npm put it.
 *
 * package.json names this module as oclif's `helpClass`; both `mailkeep help …` and `--help`
 * use it. A command or topic of that name wins over a page (`mailkeep help backup` is the
 * command's help; its engine page is `mailkeep help backup.md`).
 */
import {Help} from '@oclif/core'
import {readdirSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

/** docs/ of the package: this module is dist/bundle/*.js or dist/cli/help.js. */
const DOCS_DIR = fileURLToPath(new URL('../../docs/', import.meta.url))

export interface DocPage {
  /** `config`, `commands/local`. */
  topic: string
  /** Absolute path of the markdown file. */
  path: string
  /** The page's first heading, without `#` and backquotes. */
  title: string
}

/** Every page of docs/ and docs/commands/, by topic name; [] when the package has no docs. */
export function docPages(dir = DOCS_DIR): DocPage[] {
  const pages: DocPage[] = []
  for (const sub of ['', 'commands/']) {
    let names: string[]
    try {
      names = readdirSync(`${dir}${sub}`).filter((n) => n.endsWith('.md')).sort()
    } catch {
      continue
    }
    for (const name of names) {
      const path = `${dir}${sub}${name}`
      pages.push({topic: `${sub}${name.slice(0, -'.md'.length)}`, path, title: firstHeading(path)})
    }
  }
  return pages
}

/** The page a help argument names: `config`, `config.md`, `docs/config.md`, `commands/local`. */
export function findDocPage(name: string, pages: readonly DocPage[] = docPages()): DocPage | undefined {
  const topic = name.replace(/^docs\//, '').replace(/\.md$/, '')
  return pages.find((p) => p.topic === topic)
}

function firstHeading(path: string): string {
  try {
    const line = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith('#')) ?? ''
    return line.replace(/^#+\s*/, '').replaceAll('`', '')
  } catch {
    return ''
  }
}

export default class MailkeepHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    const words = argv.filter((a) => !a.startsWith('-'))
    if (words.length === 1) {
      const word = words[0]!
      const isCommand = this.config.findCommand(word) !== undefined || this.config.findTopic(word) !== undefined
      const page = isCommand && !word.endsWith('.md') ? undefined : findDocPage(word)
      if (page !== undefined) {
        this.log(readFileSync(page.path, 'utf8').trimEnd())
        return
      }
      await super.showHelp(argv)
      // A command or topic that has a page of the same name (`auth`, `backup`): say where it is.
      if (isCommand && findDocPage(word) !== undefined) this.log(`The documentation page ${word}: mailkeep help ${word}.md`)
      return
    }
    await super.showHelp(argv)
  }

  override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    const pages = docPages()
    if (pages.length === 0) return
    const width = Math.max(...pages.map((p) => p.topic.length)) + 2
    const lines = pages.map((p) => `  ${p.topic.padEnd(width)}${p.title}`)
    this.log(`DOCUMENTATION (mailkeep help PAGE)\n${lines.join('\n')}\n`)
  }
}
