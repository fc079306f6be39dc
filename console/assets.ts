/**
 * The console's static assets, all from this package: the page, its script (console/web/app.ts
 * bundled and minified by esbuild in memory when the server starts, ~30 ms) and its style sheet.
 * No CDN, no web font: system fonts only. Each asset is kept as is and gzip-compressed.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface Asset {
  contentType: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

const WEB = join(__dirname, 'web');

function asset(contentType: string, body: Buffer): Asset {
  return {
    contentType,
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
  };
}

/** The assets by path: `/index.html`, `/assets/app.js`, `/assets/app.css`. */
export async function buildAssets(): Promise<Map<string, Asset>> {
  // Loaded here, not at the top: every `fsm` command imports the console command's module.
  const { build } = await import('esbuild');
  const script = await build({
    entryPoints: [join(WEB, 'app.ts')],
    bundle: true,
    minify: true,
    write: false,
    format: 'iife',
    target: 'es2022',
    platform: 'browser',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const [js] = script.outputFiles;
  if (!js) throw new Error('esbuild produced no console script');
  const css = await readFile(join(WEB, 'app.css'));
  const html = await readFile(join(WEB, 'index.html'));
  return new Map([
    ['/index.html', asset('text/html; charset=utf-8', html)],
    ['/assets/app.js', asset('text/javascript; charset=utf-8', Buffer.from(js.contents))],
    ['/assets/app.css', asset('text/css; charset=utf-8', css)],
  ]);
}

/** First-load weight: the page's JS and CSS, raw and gzip-compressed (bytes). */
export function pageWeight(assets: Map<string, Asset>): { raw: number; gzip: number } {
  let raw = 0;
  let gzip = 0;
  for (const [path, { body, gzip: compressed }] of assets) {
    if (!path.endsWith('.js') && !path.endsWith('.css')) continue;
    raw += body.length;
    gzip += compressed.length;
  }
  return { raw, gzip };
}
