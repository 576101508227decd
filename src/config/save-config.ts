/**
 * Writes the config file as imap-backup does (compat §3.1, §3.2): pretty-printed JSON,
 * `version` "2.2", account keys in imap-backup's order, `folder_blacklist`, `mirror_mode` and
 * `reset_seen_flags_after_fetch` only when true, `status` and `multi_fetch_size` always, the
 * per-account `download_strategy` never; mailkeep's extension keys only when set. The file is
 * replaced atomically with mode 0600; a missing parent directory is created with mode 0700.
 *
 * What is written is first validated with the loader's own rules, so mailkeep never writes a
 * config it would refuse to load.
 */
import {chmod, mkdir, stat} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'
import {atomicWrite} from '../shared/atomic-write.js'
import {errnoCode, localIoError} from '../shared/errors.js'
import {CONFIG_VERSION} from './defaults.js'
import {parseConfig} from './parse-config.js'
import {isConfigRelative, resolveConfigPath} from './paths.js'
import {defaultTokenFile} from './oauth2-settings.js'
import {PRIVATE_MODE} from './private-file.js'
import type {Config, ConfigFile} from './types.js'

const PRIVATE_DIRECTORY_MODE = 0o700

/**
 * Saves `input` (a loaded Config, whose `raw` is written, or a plain ConfigFile object) to `path`
 * and returns the Config as it now reads. Relative paths in a Config saved to another directory
 * are made absolute, so they keep pointing at the same place.
 */
export async function saveConfig(input: Config | ConfigFile, path: string): Promise<Config> {
  const target = resolve(path)
  const fromConfig = isConfig(input)
  const source = fromConfig ? input.path : target
  const canonical = parseConfig(fromConfig ? input.raw : input, source).raw
  const moved = dirname(source) !== dirname(target) ? rebase(canonical, dirname(source)) : canonical
  const {version: _ignored, ...rest} = moved
  const config = parseConfig({version: CONFIG_VERSION, ...rest}, target)

  await ensureDirectory(dirname(target))
  await atomicWrite(target, `${JSON.stringify(config.raw, null, 2)}\n`, {mode: PRIVATE_MODE})
  if (process.platform !== 'win32') {
    try {
      await chmod(target, PRIVATE_MODE)
    } catch (error) {
      throw localIoError(error, 'set the permissions of', target)
    }
  }
  return config
}

function isConfig(input: Config | ConfigFile): input is Config {
  return 'raw' in input && 'tuning' in input && typeof (input as Config).path === 'string'
}

/** Relative paths were relative to `fromDir` (the old config directory): make them absolute. */
function rebase(file: ConfigFile, fromDir: string): ConfigFile {
  const copy = structuredClone(file)
  const absolute = (value: string): string => (isConfigRelative(value) ? resolveConfigPath(value, fromDir) : value)
  for (const account of copy.accounts) {
    if (account.local_path !== undefined) account.local_path = absolute(account.local_path)
    if (account.password_file !== undefined) account.password_file = absolute(account.password_file)
    // A token file named by default stays next to the config it was created for.
    if (account.oauth2 !== undefined) {
      const tokenFile = account.oauth2.token_file
      account.oauth2.token_file = tokenFile === undefined ? resolveConfigPath(defaultTokenFile(account.username), fromDir) : absolute(tokenFile)
    }
    const options = account.connection_options
    if (typeof options === 'object' && typeof options.ssl === 'object' && typeof options.ssl.ca_file === 'string') {
      options.ssl.ca_file = absolute(options.ssl.ca_file)
    }
  }
  return copy
}

/** Creates a missing directory as 0700 (an existing one is left as it is). */
export async function ensureDirectory(dir: string): Promise<void> {
  try {
    await stat(dir)
    return
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw localIoError(error, 'access', dir)
  }
  try {
    await mkdir(dir, {recursive: true, mode: PRIVATE_DIRECTORY_MODE})
    // mkdir's mode is filtered by the umask; make sure the result is exactly 0700.
    if (process.platform !== 'win32') await chmod(dir, PRIVATE_DIRECTORY_MODE)
  } catch (error) {
    throw localIoError(error, 'create the directory', dir)
  }
}
