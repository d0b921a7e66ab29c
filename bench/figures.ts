/** One measured number; `baseline` names what a ratio compares against, `headline` marks the figures to steer by. */
export interface Figure {
  benchmark: string;
  metric: string;
  value: number;
  unit: string;
  size?: number;
  baseline?: string;
  headline?: boolean;
}

export function formatTable(figures: Figure[]): string {
  const rows = figures.map((figure) => [
    figure.benchmark,
    `${figure.headline ? '* ' : '  '}${figure.metric}`,
    figure.value >= 100 ? figure.value.toFixed(0) : figure.value >= 1 ? figure.value.toFixed(2) : figure.value.toPrecision(3),
    figure.unit,
    figure.baseline ?? '',
  ]);
  const header = ['benchmark', '  figure', 'value', 'unit', 'baseline'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => (column === 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
