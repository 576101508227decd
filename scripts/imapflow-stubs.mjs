// Modules imapflow 2.1.2 imports at load time that mailkeep's use of it never reaches, and the
// stubs that stand in for them, for imports from inside imapflow only (our own code and other
// packages get the real modules). The same stubs are used by the bundle (scripts/build-bundle.mjs)
// and by the test suite (vitest.config.ts), so the tests run the imapflow the users run; a code
// path that reaches one throws "left out of this build" in both. Left out because they cost the
// backup command 6 MB of memory and a tenth of its start-up CPU (docs/performance.md, "The
// build"). Where imapflow uses them (grep of dist/esm, 2.1.2):
//
//   libmime, libqp, libbase64, @zone-eu/mailsplit (+ flowed-decoder): download.js (the
//     download()/downloadMany() API: we fetch BODY.PEEK[] ourselves) and tools.js
//     parseEnvelope/parseBodystructure/getStructuredParams (ENVELOPE and BODYSTRUCTURE
//     responses, which we never ask for);
//   iconv-lite: tools.js encodePath/decodePath (only imapflow's own mailbox commands: list,
//     select, status, create, append, …, none of which we call; we send names through exec()
//     encoded by src/imap/mutf7.ts), formatMessageResponse (only for imapflow's fetch() and
//     untagged FETCH while imapflow itself has a mailbox selected, which it never has: we select
//     through exec()), getDecoder (download);
//   encoding-japanese: jp-decoder.js (download of ISO-2022-JP parts);
//   socks: proxy-connection.js, only with the `proxy` option (src/imap/connect.ts never sets it);
//   pino: logger.js, imapflow's default logger, only when no `logger` option is given
//     (connect.ts always gives one).
//
// Re-check on an upgrade of imapflow (its imports of these and where they are used).

/** Module name → the named exports imapflow imports from it. */
export const IMAPFLOW_STUBS = {
  libmime: [],
  libqp: [],
  libbase64: [],
  '@zone-eu/mailsplit': ['Headers'],
  '@zone-eu/mailsplit/lib/flowed-decoder.js': [],
  'iconv-lite': [],
  'encoding-japanese': [],
  socks: ['SocksClient'],
  pino: [],
}

/** Whether an import of `specifier` from the file `importer` gets a stub. */
export function isStubbed(specifier, importer) {
  return Object.hasOwn(IMAPFLOW_STUBS, specifier) && typeof importer === 'string' && /[\\/]node_modules[\\/]imapflow[\\/]/.test(importer)
}

/** The source of the stub of `name`: an ES module whose every member throws when used. */
export function stubSource(name) {
  const named = IMAPFLOW_STUBS[name]
  return `// Stub of ${name} for imapflow (scripts/imapflow-stubs.mjs).
function leftOut(member) {
  throw new Error('mailkeep: ' + member + ' was left out of this build (scripts/imapflow-stubs.mjs); imapflow reached a code path mailkeep does not use. Please report this.')
}
function member(path) {
  return new Proxy(function () { leftOut(path) }, {
    get(target, prop) {
      if (typeof prop === 'symbol' || prop === '__esModule' || prop === 'prototype') return target[prop]
      return member(path + '.' + prop)
    },
  })
}
export default member(${JSON.stringify(name)})
${named.map((n) => `export const ${n} = member(${JSON.stringify(`${name}.${n}`)})`).join('\n')}
`
}
