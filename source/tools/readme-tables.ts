// readme.md's tables made from the registry, the key table and the exported metrics, so that they cannot drift from
// the code: `npm run readme` writes them between their markers, and a unit test checks that the
// readme holds them as they are now. Pure.
import {tabKey, TABS, TAB_IDS} from '../registry.js';
import {keyLines} from '../state/keys.js';
import {exportedViews, GAUGE_VIEWS, labelNames, SELF_METRICS} from '../model/metrics.js';

/** The tab table: key, title, event, columns. */
export function tabTable(): string {
  const rows = TAB_IDS.map(tab => `| ${tabKey(tab)} | ${TABS[tab].title} | ${TABS[tab].event} | ${TABS[tab].columns} |`);
  return ['| key | tab | event | columns |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The key table: keys, what they do. */
export function keyTable(): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const rows = keyLines().map(line => `| ${line.keys.split(', ').map(key => (/^[\w-]+$/.test(key) && key.length > 1 ? key : `\`${key}\``)).join(', ')} | ${escape(line.description)} |`);
  return ['| key | what it does |', '| --- | --- |', ...rows].join('\n');
}

/** The metrics table: every counter and gauge the registry names, then memtop's own metrics. */
export function metricsTable(): string {
  const rows = exportedViews(TAB_IDS, TABS, GAUGE_VIEWS).flatMap(view =>
    view.metrics.map(metric => {
      const labels = view.rows === 'cache' ? labelNames('cache', false) : [...labelNames('process', false), 'pid (with --metrics-pid)'];
      const where = view.gauge ? `${TABS[view.tab as keyof typeof TABS].title} ${view.view} (--export ${view.view})` : TABS[view.tab as keyof typeof TABS].title;
      return `| \`${metric.name}\` | ${metric.type} | ${labels.join(', ')} | ${metric.help} | ${where} |`;
    }),
  );
  const own = SELF_METRICS.map(metric => `| \`${metric.name}\` | ${metric.type} | ${metric.labels.join(', ')} | ${metric.help} | - |`);
  return ['| metric | type | labels | what | tab |', '| --- | --- | --- | --- | --- |', ...rows, ...own].join('\n');
}

/** Every generated block of readme.md, by the name in its markers. */
export const README_BLOCKS: Record<string, () => string> = {tabs: tabTable, keys: keyTable, metrics: metricsTable};

/** The readme with each generated block (between `<!-- generated: NAME -->` and `<!-- /generated -->`) made anew. */
export function updateReadme(readme: string): string {
  return readme.replace(/(<!-- generated: (\w+) -->\n)[\s\S]*?(\n<!-- \/generated -->)/g, (whole, open: string, name: string, close: string) => {
    const make = README_BLOCKS[name];
    return make ? `${open}${make()}${close}` : whole;
  });
}
