import { describe, expect, it } from "vitest";
import { decodeArray } from "../../js/lib/arrays";
import { colour, normaliser } from "../../js/lib/colors";

describe("arrays", () => {
  it("decodes base64 and DataView buffers", () => {
    const f = new Float32Array([1.5, -2, 3]);
    const bytes = new Uint8Array(f.buffer);
    const text = btoa(String.fromCharCode(...bytes));
    expect(Array.from(decodeArray({ dtype: "float32", shape: [3], data: text }).data)).toEqual([1.5, -2, 3]);
    const dv = new DataView(bytes.buffer, 0, 12);
    const arr = decodeArray({ dtype: "float32", shape: [1, 3], data: dv });
    expect(arr.shape).toEqual([1, 3]);
    expect(arr.data[2]).toBe(3);
    const ints = new Int32Array([7, 8]);
    expect(Array.from(decodeArray({ dtype: "int32", shape: [2], data: ints.buffer }).data)).toEqual([7, 8]);
  });
});

describe("colours", () => {
  it("uses a diverging scale for signed data and viridis otherwise", () => {
    expect(normaliser([-1, 2]).scale).toBe("coolwarm");
    expect(normaliser([0, 2]).scale).toBe("viridis");
    const n = normaliser([-1, 2]);
    expect(n(0)).toBeCloseTo(0.5);
    expect(colour(0)).toBe("rgb(68, 1, 84)");
    expect(colour(1)).toBe("rgb(253, 231, 37)");
  });
});

describe("run-length coded label maps", () => {
  it("decodes uint16 (value, length) pairs", () => {
    const pairs = new Uint16Array([3, 2, 7, 3, 0, 1]);
    const text = btoa(String.fromCharCode(...new Uint8Array(pairs.buffer)));
    const arr = decodeArray({ dtype: "int32", shape: [2, 3], data: text, encoding: "rle" });
    expect(Array.from(arr.data)).toEqual([3, 3, 7, 7, 7, 0]);
  });
});
