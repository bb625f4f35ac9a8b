/** How a command's human output is shaped (the `--csv`, `--all` and `--verbose` flags). */
export interface TableView {
  /** Print the table as CSV: every row, raw values. */
  csv?: boolean;
  /** Print every row instead of the first screenful. */
  all?: boolean;
  /** Include what is normally left out (e.g. passing checks). */
  verbose?: boolean;
  /** Width to fit instead of the terminal's. */
  width?: number;
}
