// ESLint flat config: typescript-eslint recommended rules, the type-aware recommended rules the code meets, and a line-length limit.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'dist/**', 'coverage/**', '**/*.js', '**/*.mjs', 'bench/out/**', 'bundles/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      // Long lines are error messages (they name the prop, the value and the fix) and URLs: those are exempt; code and
      // comments wrap at 200. Core max-len is deprecated for @stylistic/max-len (same options) and stays until ESLint 11.
      'max-len': ['error', { code: 200, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreRegExpLiterals: true }],
    },
  },
  // Type-aware rules (typescript-eslint recommendedTypeChecked). Promise misuse is what they catch that tsc does not.
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  ...tseslint.configs.recommendedTypeCheckedOnly.map(config => ({ ...config, files: ['**/*.ts'] })),
  {
    files: ['**/*.ts'],
    rules: {
      // Off because the code does not meet them yet (counts from `eslint .` on this tree): the no-unsafe-* family
      // follows from `any` at JSON and SDK boundaries (1,626 findings, most in tests and handlers); require-await (82:
      // async functions kept async for their interface); no-unnecessary-type-assertion (68, spread over ~45 files others
      // are editing); unbound-method (14, jest mocks); restrict-template-expressions (13) and no-base-to-string (10: error
      // text built from unknown values); no-unsafe-enum-comparison (1); only-throw-error (2: a caught value rethrown after
      // narrowing, in test/helpers/gate.ts).
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      '@typescript-eslint/only-throw-error': 'off',
    },
  },
);
