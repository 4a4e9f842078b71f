// What a user of the npm package writes: create the runtime, load a model, classify.
import { Runtime, type ClassifyResult } from 'se-runtime';

async function main(): Promise<Record<string, unknown>> {
  const runtime = await Runtime.create();
  const model = await runtime.loadModel('/model.onnx');
  const blob = await (await fetch('/sample.png')).blob();
  const result: ClassifyResult = await model.classify(await createImageBitmap(blob), { topK: 3 });
  const blocks = result.excitations.map((b) => `${b.name}: ${b.channels}`);
  return {
    backend: runtime.backend,
    adapter: runtime.adapterInfo().name,
    label: result.top[0].label,
    probability: result.top[0].probability,
    blocks: blocks.length,
    seBlocks: model.info().seBlocks.length,
    ms: result.timings.totalMs,
  };
}

main()
  .catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }))
  .then((out) => {
    (window as unknown as { viteCheck: unknown }).viteCheck = out;
    document.getElementById('out')!.textContent = JSON.stringify(out, null, 2);
  });
