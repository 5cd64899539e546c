// `node --import ./test/helpers/module-recorder.mjs …` with env TWOPC_MODULE_LOG=FILE: every
// module the process loads is appended to FILE, one URL or path a line. ES modules are recorded
// as they resolve (module-recorder-hooks.mjs), CommonJS ones from require.cache at exit.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.TWOPC_MODULE_LOG;
if (file) {
  register('./module-recorder-hooks.mjs', import.meta.url, { data: { file } });
  const require = createRequire(import.meta.url);
  process.once('exit', () => appendFileSync(file, Object.keys(require.cache).map((path) => `${path}\n`).join('')));
}
