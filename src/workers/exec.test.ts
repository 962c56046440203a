import { describe, expect, it } from "vitest";
import { tailBytes } from "./exec.js";

describe("tailBytes", () => {
  it("keeps short texts whole and cuts long ones to their last bytes", () => {
    expect(tailBytes("hello", 10)).toBe("hello");
    expect(tailBytes("0123456789", 4)).toBe("6789");
  });

  it("never starts in the middle of a UTF-8 character", () => {
    const cut = tailBytes("ééé", 5); // 6 bytes; the 5 last start inside the first é
    expect(cut).toBe("éé");
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(5);
  });
});
