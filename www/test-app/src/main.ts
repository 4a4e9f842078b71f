// What a user of the npm package writes: create the runtime, load a model, classify.
import { Runtime } from 'se-runtime';

async function main(): Promise<Record<string, unknown>> {
  const runtime = await Runtime.create();
  const adapter = runtime.adapterInfo();
  return { backend: runtime.backend, adapter: adapter.name };
}

main()
  .catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }))
  .then((out) => {
    (window as unknown as { viteCheck: unknown }).viteCheck = out;
    document.getElementById('out')!.textContent = JSON.stringify(out, null, 2);
  });
