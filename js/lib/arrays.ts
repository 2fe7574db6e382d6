// Arrays travel as binary: a DataView/ArrayBuffer from a widget comm, or base64 text inside JSON
// (MIME bundles and standalone HTML). Never as JSON lists.

export type DType = "float32" | "float64" | "int32" | "uint8" | "int64" | "png" | "jpeg";

export interface ArraySpec {
  dtype: DType;
  shape: number[];
  data: string | DataView | ArrayBuffer | Uint8Array;
  /** "rle": uint16 little-endian (value, run length) pairs (label maps). */
  encoding?: string;
}

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface NDArray {
  data: TypedArray;
  shape: number[];
}

export function toBytes(data: ArraySpec["data"]): Uint8Array {
  if (typeof data === "string") {
    const bin = atob(data);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  if (data instanceof DataView) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Uint8Array) return data;
  return new Uint8Array(data);
}

export function isArraySpec(value: unknown): value is ArraySpec {
  return (
    typeof value === "object" &&
    value !== null &&
    "dtype" in value &&
    "shape" in value &&
    "data" in value
  );
}

/** Decode a run-length coded array (uint16 value/length pairs) into int32. */
function decodeRle(bytes: Uint8Array, n: number): Int32Array {
  const out = new Int32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  for (let i = 0; i + 3 < bytes.byteLength && p < n; i += 4) {
    const value = view.getUint16(i, true);
    const end = Math.min(n, p + view.getUint16(i + 2, true));
    out.fill(value, p, end);
    p = end;
  }
  return out;
}

/** Decode an array spec into a typed array (copied so that alignment is always right). */
export function decodeArray(spec: ArraySpec): NDArray {
  const bytes = toBytes(spec.data);
  if (spec.encoding === "rle") {
    return { data: decodeRle(bytes, spec.shape.reduce((a, b) => a * b, 1)), shape: spec.shape.slice() };
  }
  const copy = bytes.slice().buffer;
  const n = spec.shape.reduce((a, b) => a * b, 1);
  let data: TypedArray;
  switch (spec.dtype) {
    case "float32":
      data = new Float32Array(copy, 0, n);
      break;
    case "float64":
      data = new Float64Array(copy, 0, n);
      break;
    case "int32":
      data = new Int32Array(copy, 0, n);
      break;
    case "uint8":
      data = new Uint8Array(copy, 0, n);
      break;
    default:
      throw new Error(`xattr-lab: unsupported dtype ${String(spec.dtype)}`);
  }
  return { data, shape: spec.shape.slice() };
}

/** Decode a 1-D array spec, or pass through a plain number list (small metadata only). */
export function vector(value: unknown): Float64Array | TypedArray {
  if (isArraySpec(value)) return decodeArray(value).data;
  if (Array.isArray(value)) return Float64Array.from(value as number[]);
  return new Float64Array(0);
}

/** Decode an array spec if present (null otherwise or on a malformed spec). */
export function maybeArray(value: unknown): NDArray | null {
  if (!isArraySpec(value)) return null;
  try {
    return decodeArray(value);
  } catch {
    return null;
  }
}

/** Row `i` of a 2-D array (a view, no copy). */
export function row(arr: NDArray, i: number): TypedArray {
  const n = arr.shape[arr.shape.length - 1];
  return arr.data.subarray(i * n, (i + 1) * n);
}

const CACHE = new WeakMap<object, NDArray | null>();

/** Like `maybeArray`, decoded once per spec object (views of one result share the decoded arrays). */
export function cachedArray(value: unknown): NDArray | null {
  if (!isArraySpec(value)) return null;
  if (!CACHE.has(value)) CACHE.set(value, maybeArray(value));
  return CACHE.get(value) ?? null;
}

/** Nearest-neighbour upsampling of a [H, W] array by an integer factor. */
export function upsample2d(arr: NDArray, k: number): NDArray {
  if (k === 1) return arr;
  const [h, w] = arr.shape;
  const out = new Int32Array(h * k * w * k);
  for (let y = 0; y < h * k; y++) {
    const sy = Math.floor(y / k) * w;
    for (let x = 0; x < w * k; x++) out[y * w * k + x] = arr.data[sy + Math.floor(x / k)];
  }
  return { data: out, shape: [h * k, w * k] };
}
