// Entry point VS Code's extension host calls for `extensionTestsPath`: runs every bundled
// *.test.js next to this file with mocha, in this (real) extension host, and writes the outcome to
// $VIRTSCOPE_E2E_RESULT as JSON {passed, failed, tests:[{title, state, ms, error}]} for test/e2e/run.sh.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

interface TestResult {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  ms?: number;
  error?: string;
}

export function run(): Promise<void> {
  // VIRTSCOPE_E2E_GREP narrows the run while working on one test.
  const grep = process.env.VIRTSCOPE_E2E_GREP || undefined;
  const mocha = new Mocha({ ui: 'bdd', timeout: 30_000, color: false, reporter: 'spec', grep });
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  const results: TestResult[] = [];
  const out = process.env.VIRTSCOPE_E2E_RESULT;
  const write = (extra: Record<string, unknown> = {}) => {
    if (!out) return;
    const passed = results.filter((r) => r.state === 'passed').length;
    const failed = results.filter((r) => r.state === 'failed').length;
    const body = { passed, failed, tests: results, files, node: process.versions.node, ...extra };
    fs.writeFileSync(out, JSON.stringify(body, null, 2));
  };
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        write();
        if (failures > 0) reject(new Error(`${failures} e2e test(s) failed`));
        else resolve();
      });
      runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', ms: t.duration }));
      runner.on('pending', (t) => results.push({ title: t.fullTitle(), state: 'pending' }));
      runner.on('fail', (t, err) => results.push({ title: t.fullTitle(), state: 'failed', ms: t.duration, error: String(err?.stack ?? err) }));
    } catch (e) {
      // e.g. a test file that throws while loading
      results.push({ title: 'load test files', state: 'failed', error: String((e as Error)?.stack ?? e) });
      write();
      reject(e);
    }
  });
}
