import { describe, expect, it } from "vitest";
import { splitForTelegram, TELEGRAM_TEXT_LIMIT, toTelegramHtml } from "./format.js";

describe("toTelegramHtml", () => {
  it("escapes what Telegram's HTML would read as markup", () => {
    expect(toTelegramHtml("a < b && c > d")).toBe("a &lt; b &amp;&amp; c &gt; d");
    expect(toTelegramHtml("<script>x</script>")).toBe("&lt;script&gt;x&lt;/script&gt;");
  });

  it("turns the Markdown a model writes into tags", () => {
    expect(toTelegramHtml("**done**: `npm test`")).toBe("<b>done</b>: <code>npm test</code>");
    expect(toTelegramHtml("run\n```sh\nnpm i <x>\n```\nok")).toBe("run\n<pre>npm i &lt;x&gt;</pre>\nok");
  });
});

describe("splitForTelegram", () => {
  it("keeps a short text whole", () => {
    expect(splitForTelegram("hello")).toEqual(["hello"]);
  });

  it("cuts a long text at line ends into pieces Telegram takes, losing nothing", () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i} ${"x".repeat(20)}`);
    const text = lines.join("\n");
    const pieces = splitForTelegram(text);
    expect(pieces.length).toBeGreaterThan(2);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    expect(pieces.join("\n")).toBe(text);
  });

  it("cuts a text without spaces at the limit", () => {
    const pieces = splitForTelegram("y".repeat(9000), 4000);
    expect(pieces.map((p) => p.length)).toEqual([4000, 4000, 1000]);
  });
});
