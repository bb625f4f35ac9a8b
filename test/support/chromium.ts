/**
 * Headless Chromium (Debian's `chromium`) for looking at a page in a test. The flags keep it off
 * the network this machine does not have (see the env notes: background networking, component
 * updates and sync would each try to connect).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The Chromium binary, or undefined where it is not installed (the test then skips with a notice). */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** Screenshot `htmlFile` into `pngFile` (1400 x 2000) and return the PNG's size in bytes. */
export function screenshot(htmlFile: string, pngFile: string, profileDir: string): number {
  execFileSync(
    CHROMIUM as string,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${join(profileDir, 'chromium-profile')}`,
      `--screenshot=${pngFile}`,
      '--window-size=1400,2000',
      `file://${htmlFile}`,
    ],
    { stdio: 'pipe', timeout: 50_000 },
  );
  return statSync(pngFile).size;
}
