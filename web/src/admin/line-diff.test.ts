import { describe, expect, it } from "vitest";
import { lineDiff } from "./line-diff";

const show = (before: string, after: string) =>
  lineDiff(before, after).map((l) => `${{ same: " ", removed: "-", added: "+" }[l.kind]}${l.text}`);

describe("lineDiff", () => {
  it("keeps common lines and marks the removed and added ones in order", () => {
    expect(show("a\nb\nc\nd", "a\nc\nx\nd")).toEqual([" a", "-b", " c", "+x", " d"]);
  });

  it("handles empty texts and identical texts", () => {
    expect(show("", "one\ntwo")).toEqual(["+one", "+two"]);
    expect(show("one", "")).toEqual(["-one"]);
    expect(show("same\ntext", "same\ntext")).toEqual([" same", " text"]);
  });

  it("finds the longest common run, not the first match", () => {
    expect(show("x\na\nb\nc", "a\nb\nc\nx")).toEqual(["-x", " a", " b", " c", "+x"]);
  });
});
