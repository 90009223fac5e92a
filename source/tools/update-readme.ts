// `npm run readme`: writes readme.md's generated tables (see readme-tables.ts) and the Grafana
// dashboard (see grafana-dashboard.ts), both made from the registry.
import {readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {updateReadme} from './readme-tables.js';
import {DASHBOARD_FILE, grafanaDashboardText} from './grafana-dashboard.js';

const ROOT = new URL('../../', import.meta.url);
const README = fileURLToPath(new URL('readme.md', ROOT));
writeFileSync(README, updateReadme(readFileSync(README, 'utf8')));
writeFileSync(fileURLToPath(new URL(DASHBOARD_FILE, ROOT)), grafanaDashboardText());
