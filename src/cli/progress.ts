/**
 * The one progress helper of every command: an ora spinner on stderr, drawn only where it can be
 * seen and cannot flood a log (stderr a terminal with a width, not CI: ora spins forever on a
 * 0-column TTY). Elsewhere every call is a no-op, so stdout and logs stay clean.
 */

export interface Progress {
  /** Replace the spinner's text. */
  update(text: string): void;
  /** Stop the spinner, leaving `finalText` with a tick when given. */
  stop(finalText?: string): void;
}

/** True when progress may be drawn: stderr is a real terminal with a width, and not CI. */
export function progressAllowed(): boolean {
  return Boolean(process.stderr.isTTY && (process.stderr.columns ?? 0) > 0 && !process.env.CI);
}

/** Start a spinner with `text` (ora is loaded only when one is drawn). */
export async function startProgress(text: string): Promise<Progress> {
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

/** Run `task` with a spinner showing `text`; the spinner stops however the task ends. */
export async function withProgress<T>(text: string, task: (progress: Progress) => Promise<T>): Promise<T> {
  const progress = await startProgress(text);
  try {
    return await task(progress);
  } finally {
    progress.stop();
  }
}
