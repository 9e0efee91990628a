// ESLint (flat config) with typescript-eslint's type-aware rules.
import tseslint from 'typescript-eslint';

const components = ['controller', 'worker', 'gateway', 'operator', 'jobs'];

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
      })).concat([{ group: into('cli'), message: 'components must not import the CLI' }]),
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
        patterns: [{ group: components.concat(['cli']).flatMap(into), message: 'src/common imports nothing else.' }],
      }],
    },
  },
  ...boundaries,
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
