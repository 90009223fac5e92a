// `npm run readme`: writes readme.md's generated tables (see readme-tables.ts).
import {readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {updateReadme} from './readme-tables.js';

const README = fileURLToPath(new URL('../../readme.md', import.meta.url));
writeFileSync(README, updateReadme(readFileSync(README, 'utf8')));
