// Shared helpers of the browser tests: headless Chromium (Debian's, through
// playwright-core) with the flags the closed network needs, and the page's server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic',
];

/** A fresh browser profile; `webgpu: false` leaves out --enable-unsafe-webgpu. */
export async function launch({ webgpu = true, args = [], viewport = { width: 1400, height: 1000 } } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'se-runtime-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : []), ...args],
    viewport,
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const log = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  return {
    page,
    log,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go for CI to keep (SE_WEB_ARTIFACTS, default www/test-results). */
export function artifactDir() {
  return process.env.SE_WEB_ARTIFACTS ?? new URL('../test-results/', import.meta.url).pathname;
}
