// ncc emits dist/index.js as ESM; a package.json beside it makes Node read it as a module wherever dist/ is used.
import { writeFileSync } from 'node:fs';
writeFileSync(new URL('../dist/package.json', import.meta.url), '{ "type": "module" }\n');
