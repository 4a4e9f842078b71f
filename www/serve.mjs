// A small static server for the page: serves the repository's index.html, www/,
// samples/, models/ and docs/ (nothing else) on 127.0.0.1, with the MIME types the
// browser insists on (application/wasm for streaming compilation, text/javascript for
// module workers). `node www/serve.mjs [port]`; port 0 picks a free one.
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const PUBLIC = ['index.html', 'www', 'samples', 'models', 'docs', 'favicon.ico'];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
};

/**
 * Starts the server; resolves to { server, url }. `root` and `allow` (the top-level
 * names served, or null for all) default to the page's.
 */
export function serve(port = 8080, { host = '127.0.0.1', root = ROOT, allow = PUBLIC } = {}) {
  const server = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === '/') path = '/index.html';
    const file = normalize(join(root, path));
    const top = file.slice(root.length + 1).split(sep)[0];
    let stat = null;
    if (file.startsWith(root + sep) && (!allow || allow.includes(top))) {
      try {
        stat = statSync(file);
      } catch {}
    }
    if (!stat || !stat.isFile() || path.includes('node_modules')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      ok({ server, url: `http://${host}:${server.address().port}/` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { url } = await serve(Number(process.argv[2] ?? 8080));
  console.log(`se-runtime page: ${url}  (Ctrl-C stops)`);
}
