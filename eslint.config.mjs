// Lint: typescript-eslint's recommended rules over the extension, its webview code, tests and scripts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test/e2e/screenshots/**', '**/*.d.ts', '.vscode-test/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        window: 'readonly',
        document: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        fetch: 'readonly',
        acquireVsCodeApi: 'readonly',
        getComputedStyle: 'readonly',
        requestAnimationFrame: 'readonly',
        HTMLElement: 'readonly',
        ResizeObserver: 'readonly',
        MessageEvent: 'readonly',
        KeyboardEvent: 'readonly',
      },
    },
    rules: {
      // unused names are errors, except the deliberate `_x` and rest siblings
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // the webview protocol and JSON from daemons are checked at the edge, then typed
      '@typescript-eslint/no-explicit-any': 'off',
      // empty catch/functions are deliberate where a missing file or a late event means nothing
      'no-empty': ['error', { allowEmptyCatch: true }],
      '@typescript-eslint/no-empty-function': 'off',
      // terminal output and libvirt's wire format are matched byte for byte
      'no-control-regex': 'off',
      // `ok && done()` and `a ? f() : g()` as statements are an idiom here
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
