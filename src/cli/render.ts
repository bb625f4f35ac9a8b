import type Table from 'cli-table3';

/**
 * A cli-table3 table that prints colours only on a terminal (cli-table3 colours piped output
 * otherwise, see STACK.md). Imported lazily by commands so `--help` stays fast.
 */
export async function createTable(head: string[], options: { colAligns?: ('left' | 'right' | 'center')[] } = {}): Promise<Table.Table> {
  const { default: CliTable } = await import('cli-table3');
  const plain = !process.stdout.isTTY;
  return new CliTable({
    head,
    colAligns: options.colAligns,
    style: plain ? { head: [], border: [] } : { head: ['cyan'] },
  }) as Table.Table;
}

/** A number for a table cell: 4 significant decimals, blank for null. */
export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '';
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(1);
  return value.toFixed(digits);
}

/** An ora spinner on stderr when progress may be drawn (TTY with columns, not CI), else a no-op. */
export async function startProgress(text: string): Promise<{ update(text: string): void; stop(finalText?: string): void }> {
  const { progressAllowed } = await import('./base-command.js');
  if (!progressAllowed()) return { update() {}, stop() {} };
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: process.stderr }).start();
  return {
    update(next: string) {
      spinner.text = next;
    },
    stop(finalText?: string) {
      if (finalText) spinner.succeed(finalText);
      else spinner.stop();
    },
  };
}
