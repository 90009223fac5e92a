// The tab bar: every tab from the registry with its key, the active one highlighted, in one line.
import React from 'react';
import {Box, Text} from 'ink';
import {tabKey, TABS, TAB_IDS, type TabId} from '../registry.js';

export function TabBar({active, width}: {active: TabId; width: number}) {
  // Long names when they fit, the numbers and short names when not: never wrap to a second line.
  const long = TAB_IDS.map(tab => ` ${tabKey(tab)} ${TABS[tab].title} `);
  const short = TAB_IDS.map(tab => ` ${tabKey(tab)} ${tab} `);
  // Narrower still: only the active tab keeps its name, so it is always on screen.
  const compact = TAB_IDS.map(tab => (tab === active ? ` ${tabKey(tab)} ${tab} ` : ` ${tabKey(tab)} `));
  const fits = (labels: string[]) => 'memtop '.length + labels.join('').length <= width;
  const labels = fits(long) ? long : fits(short) ? short : compact;
  let used = 'memtop '.length;
  return (
    <Box width={width} height={1} overflow="hidden">
      <Text bold color="green">
        {'memtop '.slice(0, width)}
      </Text>
      {TAB_IDS.map((tab, index) => {
        const label = labels[index]!;
        const room = width - used;
        used += label.length;
        if (room <= 0) return null;
        return (
          <Text key={tab} inverse={tab === active} bold={tab === active}>
            {label.slice(0, room)}
          </Text>
        );
      })}
    </Box>
  );
}
