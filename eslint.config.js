// Lint, including the layer fences of docs/design.md ("Layers"):
//   cli → engine → {store, imap, oauth} → shared, and config → shared.
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

function fence(files, layers, foreign, ignores = []) {
  return {
    files,
    ignores,
    rules: {
      'no-restricted-imports': ['error', {patterns: [...layers.map(layer), ...foreign.map((k) => FOREIGN[k])]}],
    },
  }
}

const ALL = Object.keys(FOREIGN)
const except = (...keep) => ALL.filter((k) => !keep.includes(k))

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
  fence(['src/cli/**/*.ts'], ['store', 'imap', 'oauth'], except('oclif', 'inquirer'), ['src/cli/**/*.test.ts']),
  fence(['src/cli/hooks/command-not-found.ts'], ['store', 'imap', 'oauth'], except('oclif', 'notFound')),
  {
    // Tests, benchmarks and scripts may reach into any layer and print.
    files: ['test/**/*.{ts,mjs,js}', 'bench/**/*.{ts,mjs,js}', 'scripts/**/*.{ts,mjs,js}', '**/*.test.ts'],
    rules: {'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off'},
  },
)
