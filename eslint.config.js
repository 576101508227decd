// Lint, including the layer fences of docs/design.md ("Layers"):
//   cli → engine → {store, imap, oauth} → shared, and config → shared.
// Inside the engine, the use-case fences of docs/design.md ("Engine by use-case"): a use-case
// folder imports access/ and only the other use-cases the design names; cli imports only the
// entry files of each use-case.
// Each foreign library is imported by one place only.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

const layer = (name) => ({regex: `(^|/)${name}(/|$)`, message: `this layer must not import from src/${name} (see docs/design.md, "Layers")`})
const pkg = (name, owner) => ({group: [name, `${name}/*`], message: `only ${owner} may import ${name}`})

const FOREIGN = {
  imapflow: pkg('imapflow', 'src/imap/'),
  fsExt: pkg('fs-ext', 'src/store/lock.ts'),
  oclif: pkg('@oclif/core', 'src/cli/'),
  inquirer: pkg('@inquirer/*', 'src/cli/'),
  pino: pkg('pino', 'src/shared/logger.ts'),
  atomic: pkg('write-file-atomic', 'src/shared/atomic-write.ts'),
  levenshtein: pkg('fast-levenshtein', 'src/shared/nearest.ts'),
  notFound: pkg('@oclif/plugin-not-found', 'src/cli/hooks/command-not-found.ts'),
  openid: pkg('openid-client', 'src/oauth/openid-client-adapter.ts'),
  oauth4webapi: pkg('oauth4webapi', 'src/oauth/openid-client-adapter.ts (through openid-client)'),
}

function fence(files, layers, foreign, ignores = [], more = []) {
  return {
    files,
    ignores,
    rules: {
      'no-restricted-imports': ['error', {patterns: [...layers.map(layer), ...foreign.map((k) => FOREIGN[k]), ...more]}],
    },
  }
}

const ALL = Object.keys(FOREIGN)
const except = (...keep) => ALL.filter((k) => !keep.includes(k))

// The use-cases of src/engine and which others each may import (docs/design.md, "Engine by
// use-case"). access/ is what they all share; it imports none of them.
const USE_CASES = {
  access: [],
  backup: ['access'],
  upload: ['access', 'backup'], // copy and mirror back up the source first; the report includes it
  export: ['access'],
  inspect: ['access'],
  repair: ['access', 'inspect'], // repair starts from the findings and messages inspect reads
}
const useCase = (from, name) => ({
  regex: `(^|/)${name}/`,
  message: `engine/${from} must not import from engine/${name} (see docs/design.md, "Engine by use-case")`,
})
const useCaseFences = Object.entries(USE_CASES).map(([name, allowed]) =>
  fence([`src/engine/${name}/**/*.ts`], ['cli'], ALL, [`src/engine/${name}/**/*.test.ts`],
    Object.keys(USE_CASES).filter((other) => other !== name && !allowed.includes(other)).map((other) => useCase(name, other))))

// What src/cli may import of each use-case: its entry files (the functions the commands call and
// their typed results). Not one index.ts per use-case: a barrel would make every command load
// what any command of its use-case loads (measured: `auth login`, `auth status` and
// `local accounts` would load imapflow, +370 KiB each).
const ENTRIES = {
  access: ['auth-login', 'auth-status', 'setup-server'],
  backup: ['backup', 'ignore-history', 'types'],
  upload: ['copy', 'restore', 'types'],
  export: ['folders', 'thunderbird', 'types'],
  inspect: ['local-accounts', 'local-check', 'local-folders', 'local-list', 'local-search', 'local-show', 'local-summaries', 'remote-capabilities', 'remote-folders', 'remote-namespaces', 'stats'],
  repair: ['repair', 'requote'],
}
const entryOnly = {
  regex: `(^|/)engine/(?!(${Object.entries(ENTRIES).map(([name, files]) => `${name}/(${files.join('|')})`).join('|')})\\.js$)`,
  message: 'the CLI imports a use-case only through its entry files (eslint.config.js ENTRIES; docs/design.md, "Engine by use-case")',
}

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'tmp/**', 'demo/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {...globals.node}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      '@typescript-eslint/consistent-type-imports': ['error', {fixStyle: 'inline-type-imports'}],
      'no-console': 'error',
    },
  },
  fence(['src/shared/**/*.ts'], ['cli', 'engine', 'store', 'imap', 'config', 'oauth'], except('pino', 'atomic', 'levenshtein')),
  fence(['src/shared/nearest.ts'], ['cli', 'engine', 'store', 'imap', 'config', 'oauth'], except('levenshtein')),
  fence(['src/shared/logger.ts'], ['cli', 'engine', 'store', 'imap', 'config', 'oauth'], except('pino')),
  fence(['src/shared/atomic-write.ts'], ['cli', 'engine', 'store', 'imap', 'config', 'oauth'], except('atomic')),
  fence(['src/config/**/*.ts'], ['cli', 'engine', 'store', 'imap', 'oauth'], ALL),
  fence(['src/store/**/*.ts'], ['cli', 'engine', 'imap', 'config', 'oauth'], ALL, ['src/store/lock.ts', 'src/store/**/*.test.ts']),
  fence(['src/store/lock.ts'], ['cli', 'engine', 'imap', 'config', 'oauth'], except('fsExt')),
  fence(['src/imap/**/*.ts'], ['cli', 'engine', 'store', 'config', 'oauth'], except('imapflow'), ['src/imap/**/*.test.ts']),
  fence(['src/oauth/**/*.ts'], ['cli', 'engine', 'store', 'imap', 'config'], ALL, ['src/oauth/openid-client-adapter.ts', 'src/oauth/**/*.test.ts']),
  fence(['src/oauth/openid-client-adapter.ts'], ['cli', 'engine', 'store', 'imap', 'config'], except('openid')),
  fence(['src/engine/**/*.ts'], ['cli'], ALL, ['src/engine/**/*.test.ts']),
  ...useCaseFences,
  fence(['src/cli/**/*.ts'], ['store', 'imap', 'oauth'], except('oclif', 'inquirer'), ['src/cli/**/*.test.ts'], [entryOnly]),
  fence(['src/cli/hooks/command-not-found.ts'], ['store', 'imap', 'oauth'], except('oclif', 'notFound'), [], [entryOnly]),
  {
    // Tests, benchmarks and scripts may reach into any layer and print.
    files: ['test/**/*.{ts,mjs,js}', 'bench/**/*.{ts,mjs,js}', 'scripts/**/*.{ts,mjs,js}', '**/*.test.ts'],
    rules: {'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off'},
  },
)
