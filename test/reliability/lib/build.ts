/** The CLI runs from dist/: fail early with the fix when it was not built. */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {REPO_ROOT} from '../../support/cli.js'

export function requireBuild(): void {
  for (const file of ['cli/main.js', 'cli/commands/backup.js']) {
    if (!existsSync(join(REPO_ROOT, 'dist', file))) throw new Error(`dist/${file} is missing: run \`npm run build\` before the reliability suite`)
  }
}

/** Whether a command of the CLI has been built (restore and copy arrive while this suite is written). */
export function hasCommand(path: string): boolean {
  return existsSync(join(REPO_ROOT, 'dist', 'cli', 'commands', `${path}.js`))
}
