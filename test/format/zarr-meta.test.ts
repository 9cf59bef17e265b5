import { describe, expect, it } from "vitest";
import { InvalidMetadataError } from "../../src/errors.js";
import {
  type ArrayMeta,
  gridShape,
  isInGrid,
  parseZarray,
  parseZarrJson,
  parseZattrs,
  parseZgroup,
} from "../../src/format/zarr-meta.js";

/** The `problem` of the InvalidMetadataError that fn throws. */
function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidMetadataError);
    expect((err as InvalidMetadataError).path).toBe("a/.zarray");
    return (err as InvalidMetadataError).problem;
  }
  throw new Error("expected an InvalidMetadataError");
}

// As zarr-python 2 writes it: sorted keys, 4-space indent, bare NaN.
const ZARRAY = `{
    "chunks": [
        100,
        100
    ],
    "compressor": {
        "blocksize": 0,
        "clevel": 5,
        "cname": "lz4",
        "id": "blosc",
        "shuffle": 1
    },
    "dimension_separator": ".",
    "dtype": "<f8",
    "fill_value": NaN,
    "filters": [
        {
            "dtype": "<f8",
            "id": "delta"
        }
    ],
    "order": "C",
    "shape": [
        1000,
        950
    ],
    "zarr_format": 2
}`;

function zarray(patch: Record<string, unknown>, drop: string[] = []): string {
  const m: Record<string, unknown> = {
    zarr_format: 2,
    shape: [10, 20],
    chunks: [5, 5],
    dtype: "<i4",
    compressor: null,
    fill_value: 0,
    filters: null,
    order: "C",
    ...patch,
  };
  for (const k of drop) delete m[k];
  return JSON.stringify(m);
}

describe("parseZarray", () => {
  it("normalizes a zarr-python .zarray with a bare NaN fill value", () => {
    const meta = parseZarray(ZARRAY, "a/.zarray");
    expect(meta).toEqual({
      zarrFormat: 2,
      shape: [1000, 950],
      chunkShape: [100, 100],
      innerChunkShape: null,
      dtype: "<f8",
      fillValue: Number.NaN,
      codecs: ["delta", "blosc"],
      keyEncoding: { kind: "v2", separator: "." },
      dimensionNames: null,
      order: "C",
    });
    expect(gridShape(meta)).toEqual([10, 10]);
  });

  it("accepts bytes, Infinity, -Infinity, F order, '/' separator and structured dtypes", () => {
    const text = zarray({ order: "F", dimension_separator: "/", dtype: [["x", "<f4"], ["y", "<i2", [2]]] });
    const meta = parseZarray(new TextEncoder().encode(text), "a/.zarray");
    expect(meta.order).toBe("F");
    expect(meta.keyEncoding).toEqual({ kind: "v2", separator: "/" });
    expect(meta.dtype).toBe('[["x","<f4"],["y","<i2",[2]]]');
    expect(meta.codecs).toEqual([]);
    expect(parseZarray(zarray({}).replace('"fill_value":0', '"fill_value":-Infinity'), "p").fillValue).toBe(
      Number.NEGATIVE_INFINITY,
    );
    expect(parseZarray(zarray({}).replace('"fill_value":0', '"fill_value": Infinity'), "p").fillValue).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it("keeps NaN-like text inside strings as text", () => {
    const text = zarray({ fill_value: "NaN" }).replace('"order":"C"', '"order":"C","x":"a NaN, b"');
    expect(parseZarray(`${text} `, "p").fillValue).toBe("NaN");
    const lenient = zarray({ filters: [{ id: "x", note: 'say "NaN" \\u0041' }] }).replace('"fill_value":0', '"fill_value":NaN');
    expect(parseZarray(lenient, "p").codecs).toEqual(["x"]);
  });

  it("defaults optional keys", () => {
    const meta = parseZarray(zarray({}, ["compressor", "filters", "order", "fill_value"]), "p");
    expect(meta).toMatchObject({ codecs: [], order: "C", fillValue: null, keyEncoding: { separator: "." } });
  });

  it("names each problem precisely", () => {
    const p = (text: string | Uint8Array) => problem(() => parseZarray(text, "a/.zarray"));
    expect(p('{"zarr_format": 2,\n "shape": [1, }')).toBe('invalid JSON at position 33: unexpected "}"');
    expect(p("")).toBe("invalid JSON at position 0: unexpected end of input");
    expect(p('{"a": 1} x')).toBe("invalid JSON at position 9: unexpected data after the document");
    expect(p('{"a" 1}')).toBe('invalid JSON at position 5: expected ":"');
    expect(p('{"a": 1 "b": 2}')).toBe('invalid JSON at position 8: expected ","');
    expect(p("{a: 1}")).toBe("invalid JSON at position 1: expected a string key");
    expect(p('{"a": "\u0001"}')).toBe("invalid JSON at position 6: invalid string");
    expect(p('{"a": nan}')).toBe('invalid JSON at position 6: unexpected "n"');
    expect(p(`${"[".repeat(2000)}${"]".repeat(2000)} x`)).toMatch(/nesting deeper than 1000 levels/);
    expect(p(Uint8Array.from([0x7b, 0xff, 0x7d]))).toBe("not valid UTF-8");
    expect(p("[1, 2]")).toBe(".zarray must be a JSON object");
    expect(p(zarray({}, ["zarr_format"]))).toBe('missing "zarr_format"');
    expect(p(zarray({ zarr_format: 4 }))).toBe("unsupported zarr_format 4 (expected 2)");
    expect(p(zarray({ zarr_format: 3 }))).toBe("unsupported zarr_format 3 (expected 2)");
    expect(p(zarray({}, ["shape"]))).toBe('missing "shape"');
    expect(p(zarray({ shape: [10, -1] }))).toBe('"shape" must be an array of non-negative integers');
    expect(p(zarray({ shape: [1.5] }))).toBe('"shape" must be an array of non-negative integers');
    expect(p(zarray({ shape: 10 }))).toBe('"shape" must be an array of non-negative integers');
    expect(p(zarray({ chunks: [5, 0] }))).toBe('"chunks" must be an array of positive integers');
    expect(p(zarray({ chunks: [5] }))).toBe('"chunks" has 1 dimensions but "shape" has 2');
    expect(p(zarray({ shape: [1, 2, 3] }))).toBe('"chunks" has 2 dimensions but "shape" has 3');
    expect(p(zarray({}, ["dtype"]))).toBe('missing "dtype"');
    expect(p(zarray({ dtype: 4 }))).toBe('"dtype" must be a string or a list of fields');
    expect(p(zarray({ compressor: "zlib" }))).toBe('"compressor" must be null or an object with a string "id"');
    expect(p(zarray({ compressor: { level: 1 } }))).toBe('"compressor" must be null or an object with a string "id"');
    expect(p(zarray({ filters: [{ id: 1 }] }))).toBe('"filters" must be null or a list of objects with a string "id"');
    expect(p(zarray({ filters: {} }))).toBe('"filters" must be null or a list of objects with a string "id"');
    expect(p(zarray({ order: "K" }))).toBe('"order" must be "C" or "F"');
    expect(p(zarray({ dimension_separator: "_" }))).toBe('"dimension_separator" must be "." or "/"');
  });
});

describe("parseZgroup and parseZattrs", () => {
  it("validates .zgroup", () => {
    expect(() => parseZgroup('{"zarr_format": 2}', "g/.zgroup")).not.toThrow();
    expect(() => parseZgroup('{"zarr_format": 3}', "g/.zgroup")).toThrow(/unsupported zarr_format 3/);
    expect(() => parseZgroup("{}", "g/.zgroup")).toThrow(/missing "zarr_format"/);
    expect(() => parseZgroup("null", "g/.zgroup")).toThrow(/.zgroup must be a JSON object/);
  });

  it("returns .zattrs as an object, bare NaN included, __proto__ kept as data", () => {
    const attrs = parseZattrs('{"_ARRAY_DIMENSIONS": ["x", "y"], "valid_min": NaN, "__proto__": {"a": 1}}', "p");
    expect(attrs._ARRAY_DIMENSIONS).toEqual(["x", "y"]);
    expect(attrs.valid_min).toBeNaN();
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.keys(attrs)).toContain("__proto__");
    expect(parseZattrs("{}", "p")).toEqual({});
    expect(() => parseZattrs("[]", "p")).toThrow(/.zattrs must be a JSON object/);
    expect(() => parseZattrs('"x"', "p")).toThrow(InvalidMetadataError);
  });
});

// As zarr-python 3 writes a sharded array (zarr.create_array(..., shards=...)).
const SHARDED = `{
  "shape": [100, 100],
  "data_type": "float32",
  "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [50, 50]}},
  "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
  "fill_value": "NaN",
  "codecs": [
    {
      "name": "sharding_indexed",
      "configuration": {
        "chunk_shape": [10, 10],
        "codecs": [
          {"name": "bytes", "configuration": {"endian": "little"}},
          {"name": "zstd", "configuration": {"level": 0, "checksum": false}}
        ],
        "index_codecs": [
          {"name": "bytes", "configuration": {"endian": "little"}},
          {"name": "crc32c"}
        ],
        "index_location": "end"
      }
    }
  ],
  "attributes": {"units": "K"},
  "dimension_names": ["lat", null],
  "zarr_format": 3,
  "node_type": "array",
  "storage_transformers": []
}`;

function zarrJson(patch: Record<string, unknown>, drop: string[] = []): string {
  const m: Record<string, unknown> = {
    zarr_format: 3,
    node_type: "array",
    shape: [10, 20],
    data_type: "int32",
    chunk_grid: { name: "regular", configuration: { chunk_shape: [5, 5] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: 0,
    codecs: [{ name: "bytes", configuration: { endian: "little" } }],
    ...patch,
  };
  for (const k of drop) delete m[k];
  return JSON.stringify(m);
}

function arrayMeta(text: string): ArrayMeta {
  const node = parseZarrJson(text, "p");
  if (node.kind !== "array") throw new Error("expected an array");
  return node.meta;
}

describe("parseZarrJson", () => {
  it("normalizes a real sharded array", () => {
    expect(parseZarrJson(SHARDED, "a/zarr.json")).toEqual({
      kind: "array",
      attributes: { units: "K" },
      meta: {
        zarrFormat: 3,
        shape: [100, 100],
        chunkShape: [50, 50],
        innerChunkShape: [10, 10],
        dtype: "float32",
        fillValue: "NaN",
        codecs: ["sharding_indexed(bytes,zstd)"],
        keyEncoding: { kind: "default", separator: "/" },
        dimensionNames: ["lat", null],
        order: "C",
      },
    });
  });

  it("reads a v2 chunk_key_encoding and its default separator", () => {
    const v2 = { name: "v2", configuration: { separator: "/" } };
    expect(arrayMeta(zarrJson({ chunk_key_encoding: v2 })).keyEncoding).toEqual({ kind: "v2", separator: "/" });
    expect(arrayMeta(zarrJson({ chunk_key_encoding: { name: "v2" } })).keyEncoding).toEqual({
      kind: "v2",
      separator: ".",
    });
    expect(arrayMeta(zarrJson({ chunk_key_encoding: { name: "default" } })).keyEncoding).toEqual({
      kind: "default",
      separator: "/",
    });
    expect(arrayMeta(zarrJson({}, ["chunk_key_encoding"])).keyEncoding).toEqual({ kind: "default", separator: "/" });
    const dot = { name: "default", configuration: { separator: "." } };
    expect(arrayMeta(zarrJson({ chunk_key_encoding: dot })).keyEncoding).toEqual({ kind: "default", separator: "." });
  });

  it("summarizes codecs in order, unknown ones included, nested sharding too", () => {
    const codecs = [
      { name: "transpose", configuration: { order: [1, 0] } },
      {
        name: "sharding_indexed",
        configuration: {
          chunk_shape: [5, 5],
          codecs: [{ name: "sharding_indexed", configuration: { chunk_shape: [1, 1], codecs: ["bytes"] } }, "gzip"],
        },
      },
      { name: "my.vendor.checksum" },
    ];
    const meta = arrayMeta(zarrJson({ codecs, chunk_grid: { name: "regular", configuration: { chunk_shape: [10, 10] } } }));
    expect(meta.codecs).toEqual(["transpose", "sharding_indexed(sharding_indexed(bytes),gzip)", "my.vendor.checksum"]);
    expect(meta.innerChunkShape).toEqual([5, 5]);
  });

  it("accepts extension data types, null fill values, 0-d arrays and empty shapes", () => {
    const ext = { name: "numpy.datetime64", configuration: { unit: "s", scale_factor: 1 } };
    expect(arrayMeta(zarrJson({ data_type: ext })).dtype).toBe(JSON.stringify(ext));
    expect(arrayMeta(zarrJson({ fill_value: null })).fillValue).toBeNull();
    const scalar = arrayMeta(zarrJson({ shape: [], chunk_grid: { name: "regular", configuration: { chunk_shape: [] } } }));
    expect(gridShape(scalar)).toEqual([]);
    expect(isInGrid(scalar, [])).toBe(true);
    const empty = arrayMeta(zarrJson({ shape: [0, 20] }));
    expect(gridShape(empty)).toEqual([0, 4]);
    expect(isInGrid(empty, [0, 0])).toBe(false);
  });

  it("reads groups, with or without attributes and consolidated metadata", () => {
    expect(parseZarrJson('{"zarr_format": 3, "node_type": "group"}', "p")).toEqual({ kind: "group", attributes: {} });
    const consolidated = {
      zarr_format: 3,
      node_type: "group",
      attributes: { title: "t" },
      consolidated_metadata: { kind: "inline", must_understand: false, metadata: { a: JSON.parse(SHARDED) } },
    };
    expect(parseZarrJson(JSON.stringify(consolidated), "p")).toEqual({ kind: "group", attributes: { title: "t" } });
  });

  it("names each problem precisely", () => {
    const p = (text: string) => {
      try {
        parseZarrJson(text, "x/zarr.json");
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidMetadataError);
        expect((err as InvalidMetadataError).path).toBe("x/zarr.json");
        return (err as InvalidMetadataError).problem;
      }
      throw new Error("expected an InvalidMetadataError");
    };
    const grid = (chunk_shape: unknown) => ({ chunk_grid: { name: "regular", configuration: { chunk_shape } } });
    const shard = (chunk_shape: unknown, codecs: unknown = ["bytes"]) => ({
      codecs: [{ name: "sharding_indexed", configuration: { chunk_shape, codecs } }],
    });
    expect(p("{")).toBe("invalid JSON at position 1: expected a string key");
    expect(p(zarrJson({ zarr_format: 2 }))).toBe("unsupported zarr_format 2 (expected 3)");
    expect(p(zarrJson({ zarr_format: "3" }))).toBe('unsupported zarr_format "3" (expected 3)');
    expect(p(zarrJson({ node_type: "dataset" }))).toBe('"node_type" must be "array" or "group"');
    expect(p(zarrJson({}, ["node_type"]))).toBe('"node_type" must be "array" or "group"');
    expect(p(zarrJson({ attributes: [] }))).toBe('"attributes" must be a JSON object');
    expect(p('{"zarr_format": 3, "node_type": "group", "attributes": 7}')).toBe('"attributes" must be a JSON object');
    expect(p(zarrJson({ shape: [-1, 2] }))).toBe('"shape" must be an array of non-negative integers');
    expect(p(zarrJson({}, ["data_type"]))).toBe('missing "data_type"');
    expect(p(zarrJson({ data_type: { configuration: {} } }))).toBe(
      '"data_type" must be a string or an object with a string "name"',
    );
    expect(p(zarrJson({}, ["chunk_grid"]))).toBe('missing "chunk_grid"');
    expect(p(zarrJson({ chunk_grid: { name: "rectilinear", configuration: {} } }))).toBe(
      'chunk_grid "rectilinear" is not supported (only "regular")',
    );
    expect(p(zarrJson({ chunk_grid: { configuration: {} } }))).toBe('"chunk_grid" must be an object with a string "name"');
    expect(p(zarrJson({ chunk_grid: { name: "regular", configuration: [] } }))).toBe(
      '"chunk_grid".configuration must be a JSON object',
    );
    expect(p(zarrJson(grid([5, 0])))).toBe('"chunk_grid.configuration.chunk_shape" must be an array of positive integers');
    expect(p(zarrJson(grid(undefined)))).toBe(
      '"chunk_grid.configuration.chunk_shape" must be an array of positive integers',
    );
    expect(p(zarrJson(grid([5])))).toBe('"chunk_grid.configuration.chunk_shape" has 1 dimensions but "shape" has 2');
    expect(p(zarrJson({ chunk_key_encoding: { name: "foo" } }))).toBe('unknown chunk_key_encoding "foo"');
    expect(p(zarrJson({ chunk_key_encoding: { name: "v2", configuration: { separator: "-" } } }))).toBe(
      '"chunk_key_encoding.configuration.separator" must be "." or "/"',
    );
    expect(p(zarrJson({}, ["codecs"]))).toBe('missing "codecs"');
    expect(p(zarrJson({ codecs: [] }))).toBe('"codecs" must be a non-empty list');
    expect(p(zarrJson({ codecs: [{ name: "bytes" }, { configuration: {} }] }))).toBe(
      '"codecs"[1] must be an object with a string "name"',
    );
    expect(p(zarrJson(shard([5, 5], [])))).toBe('"codecs"[0].configuration.codecs must be a non-empty list');
    expect(p(zarrJson(shard([5])))).toBe('"sharding_indexed.configuration.chunk_shape" has 1 dimensions but "shape" has 2');
    expect(p(zarrJson(shard(null)))).toBe(
      '"sharding_indexed.configuration.chunk_shape" must be an array of positive integers',
    );
    expect(p(zarrJson(shard([2, 2])))).toBe(
      '"sharding_indexed.configuration.chunk_shape" [2,2] does not divide the shard shape [5,5]',
    );
    expect(p(zarrJson({}, ["fill_value"]))).toBe('missing "fill_value"');
    expect(p(zarrJson({ dimension_names: ["x"] }))).toBe('"dimension_names" has 1 entries but "shape" has 2');
    expect(p(zarrJson({ dimension_names: ["x", 1] }))).toBe('"dimension_names" must be a list of strings or nulls');
  });
});

describe("gridShape and isInGrid", () => {
  const meta = parseZarray(zarray({ shape: [10, 21, 0], chunks: [5, 5, 3] }), "p");

  it("rounds partial chunks up", () => {
    expect(gridShape(meta)).toEqual([2, 5, 0]);
    expect(gridShape(parseZarray(zarray({ shape: [10, 20], chunks: [10, 20] }), "p"))).toEqual([1, 1]);
  });

  it("checks bounds, dimensions and integrality", () => {
    const m = parseZarray(zarray({}), "p"); // shape [10, 20], chunks [5, 5]
    expect(isInGrid(m, [0, 0])).toBe(true);
    expect(isInGrid(m, [1, 3])).toBe(true);
    expect(isInGrid(m, [2, 0])).toBe(false);
    expect(isInGrid(m, [0, 4])).toBe(false);
    expect(isInGrid(m, [-1, 0])).toBe(false);
    expect(isInGrid(m, [0.5, 0])).toBe(false);
    expect(isInGrid(m, [0])).toBe(false);
    expect(isInGrid(meta, [0, 0, 0])).toBe(false);
  });
});
