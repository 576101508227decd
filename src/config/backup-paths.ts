/**
 * Each account's backup directory (`local_path`) must be its own: two accounts whose directories
 * are the same, nest (one inside the other) or lead to the same place through a symlink would
 * write into one backup. Then a mirror-mode account deletes the other's folders (they are not on
 * its server), `restore` uploads the other's mail to the wrong server, and a backup stores one
 * account's mail under the other's folders. Such a config is refused (exit 3) before anything is
 * done.
 *
 * parseConfig() compares the paths as written (absolute and normalised); loadConfig() compares
 * them again with symlinks resolved, as far as the directories exist (a directory not created
 * yet is resolved through its nearest existing ancestor).
 */
import {readlink, realpath} from 'node:fs/promises'
import {basename, dirname, join, resolve, sep} from 'node:path'
import {errnoCode} from '../shared/errors.js'
import {accountKey, invalidConfig} from './config-error.js'
import type {Account} from './types.js'

/** Throws the ConfigError for the first two accounts whose paths (`pathOf`) coincide or nest. */
export function checkBackupPaths(accounts: readonly Account[], file: string, pathOf: (account: Account) => string | undefined = (a) => a.localPath, via = ''): void {
  const seen: Array<{account: Account; path: string}> = []
  for (const account of accounts) {
    const path = pathOf(account)
    if (account.localPath === undefined || path === undefined) continue
    for (const other of seen) {
      const relation = relationOf(path, other.path)
      if (relation === undefined) continue
      const where = accountKey(account.index, 'local_path', account.username)
      const mine = `'${account.localPath}'${via === '' || path === account.localPath ? '' : ` (${via} '${path}')`}`
      const theirs = `of accounts[${other.account.index}] (${other.account.username})`
      const otherShown = `'${other.account.localPath}'${via === '' || other.path === other.account.localPath ? '' : ` (${via} '${other.path}')`}`
      const problem =
        relation === 'same'
          ? `${mine} is also the backup directory ${theirs}${via === '' ? '' : `, ${otherShown}`}`
          : relation === 'inside'
            ? `${mine} is inside the backup directory ${otherShown} ${theirs}`
            : `${mine} contains the backup directory ${otherShown} ${theirs}`
      throw invalidConfig(file, where, problem, 'give each account its own local_path, outside every other account\'s')
    }
    seen.push({account, path})
  }
}

/** As checkBackupPaths, after resolving symlinks in each path. */
export async function checkResolvedBackupPaths(accounts: readonly Account[], file: string): Promise<void> {
  const resolved = new Map<Account, string>()
  for (const account of accounts) if (account.localPath !== undefined) resolved.set(account, await resolveExisting(account.localPath))
  checkBackupPaths(accounts, file, (a) => resolved.get(a), 'which is')
}

function relationOf(a: string, b: string): 'same' | 'inside' | 'contains' | undefined {
  if (a === b) return 'same'
  if (a.startsWith(b.endsWith(sep) ? b : `${b}${sep}`)) return 'inside'
  if (b.startsWith(a.endsWith(sep) ? a : `${a}${sep}`)) return 'contains'
  return undefined
}

/**
 * The path with symlinks resolved: realpath of its longest existing prefix, the rest appended; a
 * symlink on the way whose target does not exist yet is followed too (it is where the backup
 * would be written). A path that cannot be resolved for another reason (permissions) is
 * compared as written.
 */
async function resolveExisting(path: string, depth = 0): Promise<string> {
  try {
    return await realpath(path)
  } catch (error) {
    const code = errnoCode(error)
    if ((code !== 'ENOENT' && code !== 'ENOTDIR') || depth > MAX_LINKS) return path
  }
  try {
    const target = await readlink(path)
    return await resolveExisting(resolve(dirname(path), target), depth + 1)
  } catch {
    // Not a symlink (or gone): resolve what leads to it.
  }
  const parent = dirname(path)
  if (parent === path) return path
  return join(await resolveExisting(parent, depth), basename(path))
}

/** Linux's limit of symlinks followed in one lookup (ELOOP beyond it). */
const MAX_LINKS = 40
