import { describe, expect, it } from "vitest";
import { fmtCell } from "../../js/lib/format";
import { gridTable, kvTable } from "../../js/lib/table";

describe("table cells", () => {
  it("print counts exactly, as the CLI does (1412 forwards is not 1410)", () => {
    expect(fmtCell(1412)).toBe("1412");
    expect(fmtCell(4156)).toBe("4156");
    expect(fmtCell(14166)).toBe("14166");
    expect(fmtCell(0.123456)).toBe("0.123");
    expect(fmtCell(NaN)).toBe("n/a");
  });

  it("in the cost table and the comparison grid", () => {
    const kv = kvTable({ n_forward: 1412, seconds: 5.5391 }, "cost");
    expect(Array.from(kv.querySelectorAll("td")).map((td) => td.textContent)).toEqual(["1412", "5.54"]);
    const grid = gridTable(["eagle", "random"], [{ name: "forwards", values: [4156, 128], better: "lower" }]);
    expect(Array.from(grid.querySelectorAll("td")).map((td) => td.textContent)).toEqual(["4156", "128"]);
  });
});
