// The bench page's static server: the page (bench/web/), se-runtime's npm package
// (www/pkg/ at /pkg/), onnxruntime-web's dist/ (at /ort/) and the models (at
// /models/<key>.onnx). It logs every response's path and size so that the runner can
// count the bytes each runtime really fetched, and forbids caching so that every
// cold start downloads and compiles from scratch.
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

/**
 * `mounts`: URL prefix ('/pkg/') -> directory; `models`: key -> .onnx path.
 * Resolves to { url, log, close }; `log` is the array of { path, bytes } served.
 */
export function serve({ mounts, models }) {
  const log = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = null;
    const model = path.match(/^\/models\/([\w.-]+)\.onnx$/);
    if (model && models[model[1]]) {
      file = models[model[1]];
    } else {
      for (const [prefix, dir] of Object.entries(mounts)) {
        if (!path.startsWith(prefix)) continue;
        const f = normalize(join(dir, path.slice(prefix.length) || 'index.html'));
        if (f.startsWith(dir + sep) || f === dir) file = f;
        break;
      }
    }
    let stat = null;
    try {
      stat = file && statSync(file);
    } catch {}
    if (!stat || !stat.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    log.push({ path, file, bytes: stat.size });
    res.writeHead(200, {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      ok({
        url: `http://127.0.0.1:${server.address().port}/`,
        log,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}
