/**
 * Reads a file that holds secrets (the config, a password_file) after checking that only its
 * owner can read it, as imap-backup does for the config (compat §3.1): any permission bit outside
 * 0600 (group or other access, an execute bit, setuid/setgid/sticky) is refused. The check and
 * the read use one open file descriptor, so the file cannot be swapped in between; for a
 * symlink the target is checked (and named in the message). Windows reports 0644 for every file,
 * so nothing is checked there (compat §3.1).
 */
import {lstat, open, realpath, type FileHandle} from 'node:fs/promises'
import {ConfigError, errnoCode} from '../shared/errors.js'

export const PRIVATE_MODE = 0o600

export async function readPrivateFile(path: string, notFound: () => ConfigError): Promise<string> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    const code = errnoCode(error)
    if (code === 'ENOENT' || code === 'ENOTDIR') throw notFound()
    throw cannotRead(path, error)
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) throw new ConfigError(`'${path}' is not a regular file; give the path of the file itself`)
    if (process.platform !== 'win32' && (stats.mode & 0o7777 & ~PRIVATE_MODE) !== 0) {
      const target = await symlinkTarget(path)
      throw permissionError(target, stats.mode)
    }
    return await handle.readFile('utf8')
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw cannotRead(path, error)
  } finally {
    await handle.close()
  }
}

/** `Permissions on '<file>' should be 0600, not 0644` (compat Appendix A), with the chmod to run. */
export function permissionError(file: string, mode: number): ConfigError {
  const actual = (mode & 0o7777).toString(8).padStart(3, '0')
  return new ConfigError(`Permissions on '${file}' should be 0600, not 0${actual}`, {hint: `chmod 600 '${file}'`})
}

async function symlinkTarget(path: string): Promise<string> {
  try {
    return (await lstat(path)).isSymbolicLink() ? await realpath(path) : path
  } catch {
    return path
  }
}

function cannotRead(path: string, error: unknown): ConfigError {
  const code = errnoCode(error)
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unknown error')
  return new ConfigError(`Cannot read '${path}': ${reason}; check that the file exists and belongs to you`, {cause: error})
}
