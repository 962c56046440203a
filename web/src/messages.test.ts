import { describe, expect, it } from "vitest";
import type { ChatMessage } from "./contract";
import { lastSeq, linkify, newestFirst, safeHref, upsertMessages } from "./messages";

function message(id: string, seq: number, text: string, editedAt: string | null = null): ChatMessage {
  return {
    id,
    seq,
    role: "po",
    kind: "progress",
    text,
    runId: null,
    links: [],
    createdAt: "2025-01-01T00:00:00Z",
    editedAt,
  };
}

describe("upsertMessages", () => {
  it("orders by seq and replaces a message that comes again with the same id", () => {
    const list = upsertMessages([], [message("b", 2, "two"), message("a", 1, "one")]);
    expect(list.map((m) => m.id)).toEqual(["a", "b"]);
    const edited = upsertMessages(list, [message("b", 2, "two, edited", "2025-01-01T00:01:00Z")]);
    expect(edited.map((m) => m.text)).toEqual(["one", "two, edited"]);
  });

  it("keeps a newer edit when an older copy arrives late", () => {
    const newer = [message("b", 2, "step 2", "2025-01-01T00:02:00Z")];
    expect(upsertMessages(newer, [message("b", 2, "step 1", "2025-01-01T00:01:00Z")])[0]?.text).toBe(
      "step 2",
    );
  });

  it("finds where a stream resumes", () => {
    expect(lastSeq([])).toBe(0);
    expect(lastSeq([message("a", 4, ""), message("b", 9, "")])).toBe(9);
  });
});

describe("newestFirst", () => {
  it("sorts by last update, newest first", () => {
    const at = (id: string, updatedAt: string) =>
      ({ id, title: id, state: "idle", language: "en", updatedAt }) as const;
    expect(
      newestFirst([at("old", "2025-01-01T00:00:00Z"), at("new", "2025-02-01T00:00:00Z")]).map((c) => c.id),
    ).toEqual(["new", "old"]);
  });
});

describe("links", () => {
  it("lets only http and https through", () => {
    expect(safeHref("https://example.test/a?b=1")).toBe("https://example.test/a?b=1");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,<script>")).toBeNull();
    expect(safeHref("not a url")).toBeNull();
  });

  it("splits text into plain parts and addresses, leaving sentence punctuation outside", () => {
    expect(linkify("Live at https://a.test/x. Also <b>http://b.test</b>!")).toEqual([
      { text: "Live at " },
      { text: "https://a.test/x", href: "https://a.test/x" },
      { text: ". Also <b>" },
      { text: "http://b.test", href: "http://b.test/" },
      { text: "</b>!" },
    ]);
    expect(linkify("no links here")).toEqual([{ text: "no links here" }]);
  });
});
