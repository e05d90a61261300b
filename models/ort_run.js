#!/usr/bin/env node
// Run an ONNX model with onnxruntime-node on .npy inputs and write the outputs as .npy.
//
//   NODE_PATH=.cache/models/ort/node_modules node models/ort_run.js MODEL.onnx DIR [DIR...]
//
// For each DIR, reads DIR/input_0.npy, input_1.npy, ... (bound to the session's inputs in
// order) and writes DIR/output_0.npy, ... (the session's outputs in order) plus
// DIR/ort_outputs.json with the output names, shapes and the run time. Runs single-threaded
// on the CPU provider with all graph optimizations (the reference is numerics, not speed).
// The .npy reader/writer below handles little-endian, C-order arrays of the common dtypes.
'use strict';

const fs = require('fs');
const path = require('path');

function requireOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    const fallback = path.join(__dirname, '..', '.cache', 'models', 'ort', 'node_modules',
                               'onnxruntime-node');
    return require(fallback);
  }
}

// numpy descr <-> onnxruntime tensor type and typed array
const DTYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array], '<i4': ['int32', Int32Array],
  '<i2': ['int16', Int16Array], '|i1': ['int8', Int8Array],
  '|u1': ['uint8', Uint8Array], '<u2': ['uint16', Uint16Array],
  '<u4': ['uint32', Uint32Array], '<u8': ['uint64', BigUint64Array],
  '|b1': ['bool', Uint8Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    throw new Error(`${file}: not a .npy file`);
  }
  const major = buf.readUInt8(6);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', headerStart, headerStart + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)[1] === 'True';
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)[1];
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length)
    .map((s) => parseInt(s, 10));
  if (fortran) throw new Error(`${file}: fortran_order arrays are not supported`);
  if (!(descr in DTYPES)) throw new Error(`${file}: dtype ${descr} is not supported`);
  const [ortType, Typed] = DTYPES[descr];
  const dataStart = headerStart + headerLen;
  const count = shape.reduce((a, b) => a * b, 1);
  // copy into an aligned buffer: the data offset need not be a multiple of the element size
  const bytes = buf.subarray(dataStart, dataStart + count * Typed.BYTES_PER_ELEMENT);
  const data = new Typed(count);
  new Uint8Array(data.buffer).set(bytes);
  return { type: ortType, data: ortType === 'bool' ? Uint8Array.from(data) : data, shape };
}

function writeNpy(file, type, data, dims) {
  const descr = Object.keys(DTYPES).find((k) => DTYPES[k][0] === type);
  if (!descr) throw new Error(`cannot write tensor type ${type}`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // magic(6) + version(2) + len(2) + header + '\n' must be a multiple of 64
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.writeUInt8(0x93, 0);
  head.write('NUMPY', 1, 'latin1');
  head.writeUInt8(1, 6);
  head.writeUInt8(0, 7);
  head.writeUInt16LE(header.length, 8);
  let body;
  if (type === 'bool') {
    body = Buffer.from(Uint8Array.from(data, (v) => (v ? 1 : 0)));
  } else {
    body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 2) {
    console.error('usage: node ort_run.js MODEL.onnx DIR [DIR...]');
    process.exit(2);
  }
  const ort = requireOrt();
  const [modelPath, ...dirs] = args;
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,  // errors only: no "removing unused initializer" chatter
  });
  for (const dir of dirs) {
    const feeds = {};
    session.inputNames.forEach((name, k) => {
      const a = readNpy(path.join(dir, `input_${k}.npy`));
      feeds[name] = new ort.Tensor(a.type, a.data, a.shape);
    });
    const t0 = process.hrtime.bigint();
    const results = await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const summary = { model: path.resolve(modelPath), run_ms: ms, outputs: [] };
    session.outputNames.forEach((name, k) => {
      const t = results[name];
      writeNpy(path.join(dir, `output_${k}.npy`), t.type, t.data, t.dims);
      summary.outputs.push({ name, type: t.type, dims: t.dims });
    });
    fs.writeFileSync(path.join(dir, 'ort_outputs.json'), JSON.stringify(summary, null, 1));
    console.log(`[ort] ${path.basename(modelPath)} ${dir}: ` +
      summary.outputs.map((o) => `${o.name}[${o.dims.join(',')}]`).join(' ') +
      ` in ${ms.toFixed(1)} ms`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
