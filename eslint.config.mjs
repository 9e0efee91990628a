// ESLint (flat config) with typescript-eslint's type-aware rules.
import tseslint from 'typescript-eslint';

const components = ['controller', 'worker', 'gateway', 'operator', 'jobs'];
/** Libraries beside common: the model factory, chat templates/tokenizers, and the arena store and ratings. */
const libraries = ['model', 'chat', 'arena'];
/** Which libraries each component may import (anything not listed is forbidden). */
const allowedLibraries = {
  controller: [],
  operator: [],
  worker: ['chat'],
  gateway: ['chat', 'arena'],
  jobs: ['chat', 'arena', 'model'],
};

/** Relative import paths that reach into src/<name> from any depth below src/. */
const into = (name) => ['../', '../../', '../../../', '../../../../', '../../../../../'].flatMap((up) => [`${up}${name}`, `${up}${name}/**`]);

/** Components meet only through proto/ (generated code in src/common/gen) — never import each other. */
const boundaries = components.map((self) => ({
  files: [`src/${self}/**/*.ts`],
  rules: {
    '@typescript-eslint/no-restricted-imports': ['error', {
      patterns: components.filter((c) => c !== self).map((other) => ({
        group: into(other),
        message: `src/${self} must not import src/${other}: components talk through proto/ and src/common only.`,
      })).concat(libraries.filter((l) => !allowedLibraries[self].includes(l)).map((lib) => ({
        group: into(lib),
        message: `src/${self} must not import src/${lib} (see ARCHITECTURE.md: who may import which library).`,
      }))).concat([{ group: into('cli'), message: 'components must not import the CLI' }]),
    }],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/common/gen/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs', '.scratch-*', 'src/gateway/ui/static/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'max-depth': ['warn', 4],
      'max-params': ['warn', 5],
    },
  },
  {
    files: ['src/common/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: components.concat(['cli'], libraries).flatMap(into), message: 'src/common is plumbing and imports nothing else.' }],
      }],
    },
  },
  ...boundaries,
  {
    // Libraries: common is plumbing and imports no library; chat imports only common; arena imports only common;
    // the model factory may use chat (tokenizer files) but never a component.
    files: ['src/chat/**/*.ts', 'src/arena/**/*.ts', 'src/model/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: components.concat(['cli']).flatMap(into), message: 'libraries never import components or the CLI.' }],
      }],
    },
  },
  {
    files: ['src/chat/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: components.concat(['cli', 'arena', 'model']).flatMap(into), message: 'src/chat imports only src/common.' }] }] },
  },
  {
    files: ['src/arena/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: components.concat(['cli', 'chat', 'model']).flatMap(into), message: 'src/arena imports only src/common.' }] }] },
  },
  {
    // The browser client imports only wire types (files named *-wire.ts / wire.ts), never server code.
    files: ['src/gateway/ui/client/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [
      { regex: '^\\.\\./\\.\\./(?!(arena|openai)/wire$)', message: 'the browser client imports only its own files and wire types (../../arena/wire, ../../openai/wire).' },
    ] }] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
