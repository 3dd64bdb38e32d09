import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../common/project-root.js';

const WEB = join(PROJECT_ROOT, 'web');
const UPLOT = join(PROJECT_ROOT, 'node_modules', 'uplot', 'dist');

/** Every file the page uses, by URL: a fixed list, so no request names a path on disk. */
const FILES: Record<string, { path: string; type: string }> = {
  '/': { path: join(WEB, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { path: join(WEB, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { path: join(WEB, 'style.css'), type: 'text/css; charset=utf-8' },
  '/assets/uplot.esm.js': { path: join(UPLOT, 'uPlot.esm.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/uplot.min.css': { path: join(UPLOT, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** Scripts and styles from this origin only: the page has no inline script or style element. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The web page at `/` and its assets: plain files, no build step; uPlot straight from its package. */
export function webRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  for (const [url, file] of Object.entries(FILES)) {
    app.get(url, async (_req, reply) => {
      let body = cache.get(url);
      if (!body) {
        body = await readFile(file.path);
        cache.set(url, body);
      }
      return reply
        .header('content-type', file.type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .send(body);
    });
  }
}
