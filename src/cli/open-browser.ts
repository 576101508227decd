/**
 * Opens a URL in the user's browser where there is one (RFC 8252 §4.1: a native app uses the
 * system browser, never an embedded one): `open` on macOS, `xdg-open` on Linux and the BSDs when
 * a graphical session is there (DISPLAY or WAYLAND_DISPLAY), `start` on Windows. Nothing is
 * waited for and nothing can fail the login: the URL is printed in any case, and a machine
 * without a browser (a Pi over SSH) simply does not open one. MAILKEEP_NO_BROWSER=1 turns it off.
 */
import {spawn} from 'node:child_process'

/** Whether an attempt was made. */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['MAILKEEP_NO_BROWSER'] === '1') return false
  let command: string
  let args: string[]
  if (process.platform === 'darwin') [command, args] = ['open', [url]]
  else if (process.platform === 'win32') [command, args] = ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]]
  else if (env['DISPLAY'] || env['WAYLAND_DISPLAY']) [command, args] = ['xdg-open', [url]]
  else return false
  try {
    const child = spawn(command, args, {stdio: 'ignore', detached: true})
    child.on('error', () => undefined)
    child.unref()
    return true
  } catch {
    return false
  }
}
