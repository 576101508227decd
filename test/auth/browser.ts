/**
 * The test plays the user's browser: it opens the URL mailkeep printed, signs in on the
 * authorization server's pages and consents, following redirects and submitting forms as a
 * browser does (with cookies), until the server sends the browser somewhere else (mailkeep's
 * loopback redirect, RFC 8252 §7.3) or shows a page without a form (the device flow's "you may
 * close this window", or an error page).
 *
 * Written for oidc-provider's development pages (authorization-server.ts): a form is filled from
 * its hidden inputs plus `login`, `password` and `user_code` where it has them.
 */

export interface BrowserResult {
  /** The last URL requested. */
  url: string
  status: number
  /** The body of the last page (when it was not a redirect out). */
  body: string
}

export interface PlayOptions {
  /** The login name typed into the sign-in form (the mail account). */
  login: string
  /** What to type as the device flow's user code. */
  userCode?: string
  /** Requests to any other origin are not made (mailkeep's loopback listener: its response is returned). */
  stopAtOrigin?: string
  /** Press the "abort"/deny link instead of the consent button. */
  deny?: boolean
}

export async function playBrowser(startUrl: string, options: PlayOptions): Promise<BrowserResult> {
  const cookies = new Map<string, string>()
  let url = startUrl
  let method = 'GET'
  let body: URLSearchParams | undefined
  for (let step = 0; step < 30; step++) {
    const response = await fetch(url, {
      method,
      body,
      redirect: 'manual',
      headers: cookies.size === 0 ? {} : {cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ')},
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const at = pair!.indexOf('=')
      cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1).trim())
    }
    const text = await response.text()
    if (options.stopAtOrigin !== undefined && new URL(url).origin === options.stopAtOrigin) return {url, status: response.status, body: text}
    const location = response.headers.get('location')
    if (response.status >= 300 && response.status < 400 && location !== null) {
      url = new URL(location, url).href
      method = 'GET'
      body = undefined
      continue
    }
    const form = parseForm(text)
    if (form === undefined) return {url, status: response.status, body: text}
    if (options.deny === true && form.fields.get('prompt') === 'consent') {
      const abort = /href="([^"]*\/abort)"/.exec(text)
      if (abort !== null) {
        url = new URL(decodeEntities(abort[1]!), url).href
        method = 'GET'
        body = undefined
        continue
      }
    }
    const fields = new URLSearchParams()
    for (const [name, value] of form.fields) fields.set(name, value)
    if (form.names.has('login')) fields.set('login', options.login)
    if (form.names.has('password')) fields.set('password', 'any')
    if (form.names.has('user_code')) fields.set('user_code', options.userCode ?? '')
    url = new URL(form.action, url).href
    method = 'POST'
    body = fields
  }
  throw new Error(`the browser went round in circles, last at ${url}`)
}

interface Form {
  action: string
  /** Inputs with their values (hidden ones and pre-filled ones). */
  fields: Map<string, string>
  /** Every input name. */
  names: Set<string>
}

function parseForm(html: string): Form | undefined {
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html)
  if (form === null) return undefined
  const action = /action="([^"]*)"/i.exec(form[0])?.[1] ?? ''
  const fields = new Map<string, string>()
  const names = new Set<string>()
  for (const input of form[1]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = /name="([^"]*)"/i.exec(input[0])?.[1]
    if (name === undefined) continue
    names.add(name)
    const value = /value="([^"]*)"/i.exec(input[0])?.[1]
    if (value !== undefined) fields.set(name, decodeEntities(value))
  }
  return {action: decodeEntities(action), fields, names}
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_m, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#([0-9]+);/g, (_m, dec: string) => String.fromCodePoint(parseInt(dec, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}
