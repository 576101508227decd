/**
 * Paths written in the config (`local_path`, `password_file`, `ssl.ca_file`): `~` and `~/…` are
 * the user's home directory; any other relative path is relative to the directory holding the
 * config file (as named, symlinks not followed), so that a config works whatever the current
 * directory of cron or systemd is. `~user` is not expanded.
 */
import {homedir} from 'node:os'
import {isAbsolute, join, resolve} from 'node:path'

export function resolveConfigPath(value: string, configDir: string): string {
  if (value === '~') return homedir()
  if (value.startsWith('~/')) return join(homedir(), value.slice(2))
  return resolve(configDir, value)
}

/** True when the meaning of the path depends on the config file's directory. */
export function isConfigRelative(value: string): boolean {
  return !isAbsolute(value) && value !== '~' && !value.startsWith('~/')
}
