// A sparkline as an Ink component, for a table row's TREND cell and a tab's header.
import React from 'react';
import {Text} from 'ink';
import {sparkline} from './sparkline.js';

export interface SparklineProps {
  /** Oldest first; the last `width` are drawn. */
  values: readonly number[];
  width: number;
  /** Draw with ASCII characters (see supportsUnicode). */
  ascii: boolean;
  color?: string;
}

/** One line of exactly `width` cells: the values' sparkline, newest on the right. */
export function Sparkline({values, width, ascii, color}: SparklineProps) {
  return <Text color={color}>{sparkline(values, width, ascii)}</Text>;
}
